import FoundationEssentials
import Glibc

/// The bytes of the CA, client certificate, key and token for one request. Files are read
/// again for every request, so rotated certificates and tokens take effect without a restart.
struct TLSMaterial {
    var certificateAuthority: [UInt8]
    var clientCertificate: [UInt8]?
    var clientKey: [UInt8]?
    var token: BearerToken?

    static func load(_ credentials: KubeCredentials) throws(KubeAPIError) -> TLSMaterial {
        if (credentials.clientCertificate == nil) != (credentials.clientKey == nil) {
            throw .invalidCredentials(
                source: credentials.origin,
                reason: "a client certificate needs a client key, and a key needs a certificate",
                fix: "Set both client-certificate and client-key, or neither"
            )
        }
        return TLSMaterial(
            certificateAuthority: try read(credentials.certificateAuthority),
            clientCertificate: try credentials.clientCertificate.map { (source) throws(KubeAPIError) in try read(source) },
            clientKey: try credentials.clientKey.map { (source) throws(KubeAPIError) in try read(source) },
            token: try credentials.token.map { (source) throws(KubeAPIError) in try readToken(source, origin: credentials.origin) }
        )
    }

    static func read(_ source: PEMSource) throws(KubeAPIError) -> [UInt8] {
        switch source {
        case .data(let bytes):
            return bytes
        case .file(let path):
            return try FileContents.read(path)
        }
    }

    static func readToken(_ source: TokenSource, origin: String) throws(KubeAPIError) -> BearerToken {
        switch source {
        case .value(let token):
            return token
        case .file(let path):
            let text = String(decoding: try FileContents.read(path), as: UTF8.self)
            let token = text.trimmingWhitespace()
            guard !token.isEmpty else {
                throw .invalidCredentials(source: "token file \(path)", reason: "the file is empty", fix: "Write the token into the file, or check the projected volume")
            }
            return BearerToken(token)
        }
    }
}

/// Reads small credential files with errno text on failure.
enum FileContents {
    static let maxBytes = 1 << 20

    static func read(_ path: String) throws(KubeAPIError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw .unreadableFile(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }

        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .unreadableFile(path: path, reason: String(cString: strerror(errno)))
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: buffer[0..<count])
            if bytes.count > maxBytes {
                throw .unreadableFile(path: path, reason: "larger than \(maxBytes) bytes, too large for a credential file: check the path")
            }
        }
    }
}
