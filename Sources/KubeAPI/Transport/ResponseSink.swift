import FoundationEssentials

/// Collects a response's body and headers from libcurl's callbacks, and stops the transfer
/// when the body grows past `limit` bytes.
final class ResponseSink {
    let limit: Int
    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []
    var exceededLimit = false

    init(limit: Int) {
        self.limit = limit
    }

    /// Appends body bytes and returns the count taken. Past the limit it takes nothing, so
    /// libcurl ends the transfer with CURLE_WRITE_ERROR.
    func append(body pointer: UnsafeMutablePointer<CChar>, count: Int) -> Int {
        if body.count + count > limit {
            exceededLimit = true
            return 0
        }
        pointer.withMemoryRebound(to: UInt8.self, capacity: count) {
            body.append(contentsOf: UnsafeBufferPointer(start: $0, count: count))
        }
        return count
    }

    /// Records one header line. A new status line (after a redirect or `100 Continue`) starts
    /// the header set again.
    func append(headerLine pointer: UnsafeMutablePointer<CChar>, count: Int) -> Int {
        let bytes = pointer.withMemoryRebound(to: UInt8.self, capacity: count) {
            Array(UnsafeBufferPointer(start: $0, count: count))
        }
        let line = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
        if line.hasPrefix("HTTP/") {
            headers.removeAll()
        } else if let colon = line.firstIndex(of: ":"), headers.count < 200 {
            let name = String(line[..<colon]).lowercased()
            let value = String(line[line.index(after: colon)...]).trimmingWhitespace()
            headers.append((name, value))
        }
        return count
    }

    func header(_ name: String) -> String? {
        headers.last { $0.name == name.lowercased() }?.value
    }
}
