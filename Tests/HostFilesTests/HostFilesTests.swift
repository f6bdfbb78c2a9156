import Testing
@testable import HostFiles
