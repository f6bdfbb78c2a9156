import KubeAPI
import Testing

/// Runs `body` and returns the `KubeAPIError` it throws, or nil when it succeeds. Any other
/// error is recorded as a test issue.
func apiError<T>(_ body: () async throws -> T) async -> KubeAPIError? {
    do {
        _ = try await body()
        return nil
    } catch let error as KubeAPIError {
        return error
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}

extension KubeAPIError {
    var forbiddenPermission: (verb: String, resource: String, message: String)? {
        if case .forbidden(let verb, let resource, let message, _) = self { return (verb, resource, message) }
        return nil
    }

    var curlCode: Int? {
        if case .transport(let code, _, _) = self { return code }
        return nil
    }

    var httpCode: Int? {
        if case .httpStatus(let code, _, _) = self { return code }
        return nil
    }

    var isConflict: Bool {
        if case .conflict = self { return true }
        return false
    }

    var isTimeout: Bool {
        if case .timedOut = self { return true }
        return false
    }
}
