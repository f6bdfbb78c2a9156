import Testing
@testable import K3sConfig
