internal import CCurl
internal import CShims

/// Owns one libcurl easy handle. A handle serves one transfer at a time and is not shared
/// between threads; `deinit` frees it.
final class CurlHandle {
    let raw: UnsafeMutableRawPointer

    /// curl's detailed text for the last failed transfer (CURLOPT_ERRORBUFFER). It is more
    /// specific than curl_easy_strerror, for example about which certificate check failed.
    private let errorBuffer: UnsafeMutablePointer<CChar>

    private static let globalInit: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()

    init?() {
        guard Self.globalInit, let raw = curl_easy_init() else { return nil }
        self.raw = raw
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        _ = hk_curl_setopt_pointer(raw, CURLOPT_ERRORBUFFER, errorBuffer)
    }

    deinit {
        curl_easy_cleanup(raw)
        errorBuffer.deallocate()
    }

    /// curl's message for `code`: the error buffer when curl filled it, else its generic text.
    func message(for code: CURLcode) -> String {
        let detail = String(cString: errorBuffer)
        if !detail.isEmpty {
            return detail.hasSuffix("\n") ? String(detail.dropLast()) : detail
        }
        return String(cString: curl_easy_strerror(code))
    }

    func set(_ option: CURLoption, _ value: Int) throws(CurlSetupError) {
        try check(hk_curl_setopt_long(raw, option, value), option)
    }

    func set(_ option: CURLoption, _ value: String?) throws(CurlSetupError) {
        // libcurl copies string options, so the C string only has to live through the call.
        let code: CURLcode
        if let value {
            code = value.withCString { hk_curl_setopt_string(raw, option, $0) }
        } else {
            code = hk_curl_setopt_string(raw, option, nil)
        }
        try check(code, option)
    }

    func set(_ option: CURLoption, blob: [UInt8]) throws(CurlSetupError) {
        let code = blob.withUnsafeBytes { hk_curl_setopt_blob(raw, option, $0.baseAddress, $0.count) }
        try check(code, option)
    }

    func setLarge(_ option: CURLoption, _ value: Int64) throws(CurlSetupError) {
        try check(hk_curl_setopt_off(raw, option, curl_off_t(value)), option)
    }

    func setList(_ option: CURLoption, _ list: UnsafeMutablePointer<curl_slist>?) throws(CurlSetupError) {
        try check(hk_curl_setopt_slist(raw, option, list), option)
    }

    func responseCode() -> Int {
        var code = 0
        _ = hk_curl_getinfo_long(raw, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    private func check(_ code: CURLcode, _ option: CURLoption) throws(CurlSetupError) {
        guard code == CURLE_OK else {
            throw CurlSetupError(option: Int(option.rawValue), message: String(cString: curl_easy_strerror(code)))
        }
    }
}

/// A libcurl option that could not be set, for example because this libcurl is too old.
struct CurlSetupError: Error {
    var option: Int
    var message: String
}

/// Owns a curl_slist of request headers.
final class CurlHeaderList {
    private(set) var raw: UnsafeMutablePointer<curl_slist>?

    init(_ lines: [String]) {
        for line in lines {
            raw = line.withCString { curl_slist_append(raw, $0) }
        }
    }

    deinit {
        curl_slist_free_all(raw)
    }
}

extension CurlHandle {
    /// Sets CURLOPT_COPYPOSTFIELDS, which copies CURLOPT_POSTFIELDSIZE bytes: set that first.
    func setCopiedBody(_ body: [UInt8]) throws(CurlSetupError) {
        let code = body.withUnsafeBytes { hk_curl_setopt_pointer(raw, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress)) }
        guard code == CURLE_OK else {
            throw CurlSetupError(option: Int(CURLOPT_COPYPOSTFIELDS.rawValue), message: String(cString: curl_easy_strerror(code)))
        }
    }

    func setCallbacks(body: hk_curl_data_callback, header: hk_curl_data_callback, context: UnsafeMutableRawPointer) throws(CurlSetupError) {
        for (code, option) in [
            (hk_curl_set_write_callback(raw, body, context), CURLOPT_WRITEFUNCTION),
            (hk_curl_set_header_callback(raw, header, context), CURLOPT_HEADERFUNCTION),
        ] where code != CURLE_OK {
            throw CurlSetupError(option: Int(option.rawValue), message: String(cString: curl_easy_strerror(code)))
        }
    }
}
