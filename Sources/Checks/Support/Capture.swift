/// Runs an async throwing body and returns its outcome as a `Result`.
func capture<Success, Failure: Error>(_ body: () async throws(Failure) -> Success) async -> Result<Success, Failure> {
    do {
        return .success(try await body())
    } catch {
        return .failure(error)
    }
}
