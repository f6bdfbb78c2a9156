import Testing

@testable import Checks

@Suite("Service account arguments")
struct ServiceAccountParsingTests {
    @Test("valid NAMESPACE/NAME", arguments: ["team/app", "kube-system/coredns", "ns/app.v2"])
    func valid(text: String) {
        #expect(DoctorOptions.ServiceAccount(parsing: text) != nil)
    }

    @Test("invalid NAMESPACE/NAME", arguments: ["../x", "team/../x", "team/a b", "Team/app", "team/", "/app", "team/app/token", "team/\u{1B}[31m", "a/-x"])
    func invalid(text: String) {
        #expect(DoctorOptions.ServiceAccount(parsing: text) == nil)
    }
}
