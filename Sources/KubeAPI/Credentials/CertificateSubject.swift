import FoundationEssentials
internal import COpenSSL

/// The subject and validity of a PEM client certificate (the first one in the input).
public struct CertificateSubject: Sendable, Equatable {
    public var commonName: String?
    public var organizations: [String]
    public var notAfter: Date?

    /// Parses the first certificate in `pem`; nil when there is none.
    public static func parse(pem: [UInt8]) -> CertificateSubject? {
        let certificate: OpaquePointer? = pem.withUnsafeBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_X509(bio, nil, nil, nil)
        }
        guard let certificate else {
            ERR_clear_error()
            return nil
        }
        defer { X509_free(certificate) }

        var subject = CertificateSubject(commonName: nil, organizations: [], notAfter: nil)
        if let name = X509_get_subject_name(certificate) {
            for index in 0..<X509_NAME_entry_count(name) {
                guard let entry = X509_NAME_get_entry(name, index),
                    let value = X509_NAME_ENTRY_get_data(entry),
                    let bytes = ASN1_STRING_get0_data(value)
                else { continue }
                let text = String(decoding: UnsafeBufferPointer(start: bytes, count: Int(ASN1_STRING_length(value))), as: UTF8.self)
                switch OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry)) {
                case NID_commonName: subject.commonName = text
                case NID_organizationName: subject.organizations.append(text)
                default: break
                }
            }
        }
        if let notAfter = X509_get0_notAfter(certificate) {
            var time = tm()
            if ASN1_TIME_to_tm(notAfter, &time) == 1 {
                subject.notAfter = Date(timeIntervalSince1970: TimeInterval(timegm(&time)))
            }
        }
        return subject
    }

    /// The node name of a kubelet client certificate, whose subject is
    /// `CN=system:node:<name>, O=system:nodes` (kubelet client certificate convention).
    public var nodeName: String? {
        guard let commonName, commonName.hasPrefix("system:node:") else { return nil }
        let name = String(commonName.dropFirst("system:node:".count))
        return name.isEmpty ? nil : name
    }
}

extension KubeCredentials {
    /// Returns the node this agent runs for: the name in the client certificate's subject
    /// (`CN=system:node:<name>`), else the NODE_NAME variable (set from the downward API in
    /// the DaemonSet), else nil. The host name is not used because it can differ from the
    /// node name.
    public func nodeName(environment: [String: String]) throws(KubeAPIError) -> String? {
        if let certificate = clientCertificate,
            let name = CertificateSubject.parse(pem: try TLSMaterial.read(certificate))?.nodeName
        {
            return name
        }
        if let name = environment["NODE_NAME"], !name.isEmpty {
            return name
        }
        return nil
    }
}
