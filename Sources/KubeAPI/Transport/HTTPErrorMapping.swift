import FoundationEssentials

/// Turns an error response into a `KubeAPIError` carrying the API's own `Status.message`.
enum HTTPErrorMapping {
    static func error(
        for response: KubeResponse,
        request: KubeRequest,
        _ description: RequestDescription,
        redacting secrets: [String] = []
    ) -> KubeAPIError {
        var message = message(from: response)
        for secret in secrets where !secret.isEmpty {
            message = message.replacingAll(secret, with: "<redacted>")
        }
        switch response.status {
        case 401: return .unauthorized(message: message, request: description)
        case 403: return .forbidden(verb: request.verb, resource: request.resource, message: message, request: description)
        case 404: return .notFound(message: message, request: description)
        case 409: return .conflict(message: message, request: description)
        default: return .httpStatus(code: response.status, message: message, request: description)
        }
    }

    /// Returns the Status message when the body is a metav1 Status, else the start of the
    /// body as text, because the kubelet returns errors as plain text.
    static func message(from response: KubeResponse) -> String {
        if let status = try? JSONDecoder().decode(Status.self, from: Data(response.body)),
            status.kind == "Status", let message = status.message, !message.isEmpty
        {
            return message
        }
        let text = String(decoding: response.body.prefix(300), as: UTF8.self)
            .trimmingWhitespace()
            .replacingAll("\n", with: " ")
        return text.isEmpty ? "empty response body" : text
    }
}

/// JSON encoding and decoding with the conventions of the Kubernetes API.
enum JSONCoding {
    static func decode<T: Decodable>(_ type: T.Type, from body: [UInt8], request: KubeRequest, server: String) throws(KubeAPIError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(body))
        } catch {
            throw .invalidResponse(
                type: String(describing: type),
                reason: String(describing: error),
                request: RequestDescription(server: server, method: request.method, path: request.path)
            )
        }
    }

    static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // The models are plain structs of strings, numbers and arrays, which JSONEncoder always
        // encodes. Should that ever fail, the server rejects the empty body.
        return (try? Array(encoder.encode(value))) ?? []
    }
}
