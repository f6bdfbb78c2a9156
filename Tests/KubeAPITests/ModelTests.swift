import Foundation
import APIStandInSupport
import Testing
@testable import KubeAPI

/// Models decode real API bodies, and the stand-in responds in the same shapes.
@Suite("API models")
struct ModelTests {
    // Source: `curl https://$INSTANCE/version` against a k3s v1.31.12+k3s1 API server (NNSCTF
    // 2025 write-up by YiFei Zhu).
    @Test("version body of k3s v1.31.12 decodes")
    func versionFixture() throws {
        let version = try JSONDecoder().decode(KubeVersion.self, from: Data(try fixture("api/k3s-version-v1.31.12.json").utf8))
        #expect(version.gitVersion == "v1.31.12+k3s1")
        #expect(version.minor == "31")
    }

    // Source: the same write-up, a 403 from the RBAC authorizer of k3s v1.31.12+k3s1.
    @Test("403 Status body gives its message")
    func forbiddenFixture() throws {
        let body = Array(try fixture("api/k3s-status-403-forbidden-rbac.json").utf8)
        let request = KubeRequest(method: "GET", path: "/apis/nnsctf.no/v1/namespaces/default/notes", retryable: true, verb: "list", resource: "notes.nnsctf.no")
        let error = HTTPErrorMapping.error(for: KubeResponse(status: 403, body: body), request: request, RequestDescription(server: "https://k3s", method: "GET", path: request.path))
        #expect(error.forbiddenPermission?.verb == "list")
        #expect(error.forbiddenPermission?.message == "notes.nnsctf.no is forbidden: User \"system:anonymous\" cannot list resource \"notes\" in API group \"nnsctf.no\" in the namespace \"default\"")
    }

    // Source: deckhouse user-authz documentation, `kubectl create --raw .../subjectaccessreviews | jq .status`.
    @Test("SubjectAccessReview statuses decode", arguments: [
        ("api/sar-status-allowed.json", true, true),
        ("api/sar-status-denied.json", false, false),
    ])
    func reviewFixtures(path: String, allowed: Bool, hasReason: Bool) throws {
        let status = try JSONDecoder().decode(SubjectAccessReviewStatus.self, from: Data(try fixture(path).utf8))
        #expect(status.allowed == allowed)
        #expect((status.reason != nil) == hasReason)
    }

    @Test("a plain-text error body becomes the message")
    func plainTextError() {
        let response = KubeResponse(status: 500, body: Array("Internal Server Error\n".utf8))
        #expect(HTTPErrorMapping.message(from: response) == "Internal Server Error")
    }

    @Test("secrets echoed by a server are redacted")
    func redaction() {
        let body = #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"token abc.def.ghi is malformed","reason":"BadRequest","code":400}"#
        let request = KubeRequest(method: "POST", path: "/x", retryable: false, verb: "create", resource: "tokenreviews")
        let error = HTTPErrorMapping.error(for: KubeResponse(status: 400, body: Array(body.utf8)), request: request, RequestDescription(server: "https://k3s", method: "POST", path: "/x"), redacting: ["abc.def.ghi"])
        #expect(error == .httpStatus(code: 400, message: "token <redacted> is malformed", request: RequestDescription(server: "https://k3s", method: "POST", path: "/x")))
    }

    @Test("stand-in Status bodies have the real field set and order")
    func standInStatusShape() async throws {
        let standIn = try await APIStandIn.start(["version": try JSONSerialization.jsonObject(with: Data(try fixture("api/k3s-version-v1.31.12.json").utf8))])
        let client = standIn.client(standIn.credentials(token: APIStandIn.otherToken))

        // The configured /version body comes back as set.
        #expect(try await client.version().gitVersion == "v1.31.12+k3s1")

        // A 403 from the stand-in carries the same keys, in the same order, as the real one.
        let request = KubeRequest(method: "GET", path: "/api/v1/nodes", retryable: false, verb: "list", resource: "nodes")
        let error = await apiError { try await client.send(request) }
        #expect(error?.forbiddenPermission?.message == "nodes is forbidden: User \"system:serviceaccount:default:other\" cannot list resource \"nodes\" in API group \"\" at the cluster scope")
        let real = try fixture("api/k3s-status-403-forbidden-rbac.json")
        let body = try await rawBody(standIn, path: "/api/v1/nodes", token: APIStandIn.otherToken)
        #expect(topLevelKeys(body) == topLevelKeys(real))
    }

    func topLevelKeys(_ json: String) -> [String] {
        // Keys of the outer object in document order: quoted strings followed by a colon at depth 1.
        var keys: [String] = []
        var depth = 0
        var index = json.startIndex
        while index < json.endIndex {
            let character = json[index]
            if character == "{" { depth += 1 } else if character == "}" { depth -= 1 }
            if character == "\"" {
                let start = json.index(after: index)
                var end = start
                while json[end] != "\"" { end = json[end] == "\\" ? json.index(end, offsetBy: 2) : json.index(after: end) }
                let rest = json[json.index(after: end)...].drop { $0 == " " }
                if depth == 1, rest.first == ":" { keys.append(String(json[start..<end])) }
                index = json.index(after: end)
                continue
            }
            index = json.index(after: index)
        }
        return keys
    }

    /// Sends a GET that the server rejects and returns the raw error body, bypassing the
    /// client's error mapping.
    func rawBody(_ standIn: APIStandIn, path: String, token: String) async throws -> String {
        var options = APIStandIn.fastOptions
        options.maxAttempts = 1
        let transfer = HTTPTransfer(credentials: standIn.credentials(token: token), options: options)
        guard case .response(let response) = transfer.perform(KubeRequest(method: "GET", path: path, retryable: false, verb: "get", resource: "nodes")) else {
            throw StandInError(message: "no response from the stand-in")
        }
        return String(decoding: response.body, as: UTF8.self)
    }
}
