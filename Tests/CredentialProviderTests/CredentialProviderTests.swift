import Testing
@testable import CredentialProvider
