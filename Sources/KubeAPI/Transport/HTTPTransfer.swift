import FoundationEssentials
internal import CCurl
internal import CShims

/// One blocking HTTPS exchange through libcurl with the trust and identity from
/// `KubeCredentials`, set explicitly on every handle: this never falls back to the system CA
/// bundle, libcurl's compiled-in paths or proxy environment variables.
struct HTTPTransfer {
    var credentials: KubeCredentials
    var options: KubeClientOptions

    enum Outcome {
        case response(KubeResponse)
        case failure(KubeAPIError, FailureKind)
    }

    /// Retry class of a failed transfer.
    enum FailureKind {
        /// Retrying cannot help, for example a rejected certificate.
        case permanent
        /// The connection failed before the request was sent, so any request may be retried.
        case notSent
        /// The connection broke after the request may have reached the server, so only a
        /// retryable request may be sent again.
        case transient
    }

    func perform(_ request: KubeRequest) -> Outcome {
        let description = RequestDescription(server: credentials.server, method: request.method, path: request.path)
        do throws(KubeAPIError) {
            return try performChecked(request, description)
        } catch {
            return .failure(error, .permanent)
        }
    }

    private func performChecked(_ request: KubeRequest, _ description: RequestDescription) throws(KubeAPIError) -> Outcome {
        let address = try ServerAddress(server: credentials.server)
        let material = try TLSMaterial.load(credentials)
        guard let handle = CurlHandle() else {
            throw .transport(curlCode: -1, message: "curl_easy_init failed", request: description)
        }
        let sink = ResponseSink(limit: options.maxResponseBytes)

        // Header lines, the Authorization one included, live only in this list and libcurl.
        var headerLines = ["Accept: \(request.accept)", "User-Agent: \(options.userAgent)", "Expect:"]
        if let contentType = request.contentType {
            headerLines.append("Content-Type: \(contentType)")
        }
        if let authorization = request.authorization {
            headerLines.append("Authorization: \(authorization)")
        } else if let token = material.token {
            headerLines.append("Authorization: Bearer \(token.secret)")
        }
        let headers = CurlHeaderList(headerLines)

        let target = address.target(path: request.path, tlsServerName: credentials.tlsServerName)
        let connectTo = CurlHeaderList(target.connectTo.map { [$0] } ?? [])
        do throws(CurlSetupError) {
            try configure(handle, request, target.url, connectTo, headers, material)
            try attach(sink, to: handle)
        } catch {
            throw .transport(curlCode: -1, message: "cannot set libcurl option \(error.option): \(error.message)", request: description)
        }

        let code = withExtendedLifetime((sink, headers, connectTo)) { curl_easy_perform(handle.raw) }
        if code != CURLE_OK {
            return classify(code, handle: handle, sink: sink, description)
        }
        return .response(
            KubeResponse(
                status: handle.responseCode(),
                body: sink.body,
                contentType: sink.header("content-type"),
                retryAfter: sink.header("retry-after"),
                headers: Dictionary(sink.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 })
            )
        )
    }

    private func configure(
        _ handle: CurlHandle,
        _ request: KubeRequest,
        _ url: String,
        _ connectTo: CurlHeaderList,
        _ headers: CurlHeaderList,
        _ material: TLSMaterial
    ) throws(CurlSetupError) {
        try handle.set(CURLOPT_URL, url)
        try handle.set(CURLOPT_PROTOCOLS_STR, "https")
        try handle.set(CURLOPT_NOSIGNAL, 1)
        // An empty proxy disables proxies even when https_proxy or ALL_PROXY is set.
        try handle.set(CURLOPT_PROXY, "")
        if connectTo.raw != nil {
            try handle.setList(CURLOPT_CONNECT_TO, connectTo.raw)
        }
        try handle.setList(CURLOPT_HTTPHEADER, headers.raw)
        // Offer every encoding this libcurl decodes: the API server compresses large responses
        // (its /metrics and big lists) with gzip, which cuts the bytes each node transfers.
        try handle.set(CURLOPT_ACCEPT_ENCODING, "")

        // Method and body. COPYPOSTFIELDS copies POSTFIELDSIZE bytes, so the size goes first.
        switch request.method {
        case "GET": try handle.set(CURLOPT_HTTPGET, 1)
        case "POST": try handle.set(CURLOPT_POST, 1)
        default: try handle.set(CURLOPT_CUSTOMREQUEST, request.method)
        }
        if let body = request.body {
            try handle.setLarge(CURLOPT_POSTFIELDSIZE_LARGE, Int64(body.count))
            try handle.setCopiedBody(body)
        }

        // Timeouts and size bound on every request.
        try handle.set(CURLOPT_CONNECTTIMEOUT_MS, Int(options.connectTimeout * 1000))
        try handle.set(CURLOPT_TIMEOUT_MS, Int(options.requestTimeout * 1000))
        try handle.setLarge(CURLOPT_MAXFILESIZE_LARGE, Int64(options.maxResponseBytes))

        // Trust only the configured CA: clear libcurl's compiled-in bundle and directory first.
        try handle.set(CURLOPT_SSL_VERIFYPEER, 1)
        try handle.set(CURLOPT_SSL_VERIFYHOST, 2)
        try handle.set(CURLOPT_CAINFO, nil)
        try handle.set(CURLOPT_CAPATH, nil)
        try handle.set(CURLOPT_CAINFO_BLOB, blob: material.certificateAuthority)

        // Client certificate and key, both PEM.
        if let certificate = material.clientCertificate, let key = material.clientKey {
            try handle.set(CURLOPT_SSLCERTTYPE, "PEM")
            try handle.set(CURLOPT_SSLCERT_BLOB, blob: certificate)
            try handle.set(CURLOPT_SSLKEYTYPE, "PEM")
            try handle.set(CURLOPT_SSLKEY_BLOB, blob: key)
        }
    }

    private func attach(_ sink: ResponseSink, to handle: CurlHandle) throws(CurlSetupError) {
        let context = Unmanaged.passUnretained(sink).toOpaque()
        let writeBody: hk_curl_data_callback = { data, size, count, context in
            guard let data, let context else { return 0 }
            return Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue().append(body: data, count: size * count)
        }
        let writeHeader: hk_curl_data_callback = { data, size, count, context in
            guard let data, let context else { return 0 }
            return Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue().append(headerLine: data, count: size * count)
        }
        try handle.setCallbacks(body: writeBody, header: writeHeader, context: context)
    }

    /// Maps a failed transfer to an error and its `FailureKind`. TLS failures are permanent
    /// because a rejected certificate stays rejected.
    private func classify(_ code: CURLcode, handle: CurlHandle, sink: ResponseSink, _ description: RequestDescription) -> Outcome {
        let message = handle.message(for: code)
        if sink.exceededLimit || code == CURLE_FILESIZE_EXCEEDED {
            return .failure(.responseTooLarge(limitBytes: options.maxResponseBytes, request: description), .permanent)
        }
        if code == CURLE_OPERATION_TIMEDOUT {
            let duringConnect = message.lowercased().contains("connect")
            let seconds = duringConnect ? options.connectTimeout : options.requestTimeout
            return .failure(.timedOut(seconds: seconds, message: message, request: description), duringConnect ? .notSent : .permanent)
        }
        let kind: FailureKind
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT: kind = .notSent
        case CURLE_GOT_NOTHING, CURLE_SEND_ERROR: kind = .transient
        default: kind = .permanent
        }
        return .failure(.transport(curlCode: Int(code.rawValue), message: message, request: description), kind)
    }
}
