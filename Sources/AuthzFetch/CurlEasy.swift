internal import CCurl
import AuthzIO
import AuthzText

/// One libcurl easy handle, configured for a single request and freed in `deinit`.
///
/// Everything curl needs to outlive `perform()` (the transfer state the callbacks write into, the
/// error buffer) is owned here, so no pointer escapes this file.
final class CurlEasy {
    private let handle: UnsafeMutableRawPointer
    private let transfer: Transfer
    private var requestHeaders: UnsafeMutablePointer<curl_slist>?

    /// Collects what the callbacks see; curl gets an unretained pointer to it for the transfer.
    final class Transfer {
        var body: [UInt8] = []
        var headers: [(String, String)] = []
        let maxBytes: Int
        var tooLarge = false
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

        init(maxBytes: Int) {
            self.maxBytes = maxBytes
            errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        }

        deinit { errorBuffer.deallocate() }

        /// One header line; a status line starts a new response (after a redirect), so the
        /// headers of earlier hops are dropped.
        func addHeaderLine(_ bytes: UnsafeBufferPointer<UInt8>) {
            var line = Substring(decoding: bytes, as: UTF8.self)
            while let last = line.last, last.isNewline { line = line.dropLast() }
            if line.hasPrefix("HTTP/") {
                headers = []
                return
            }
            guard let colon = line.firstIndex(of: ":") else { return }
            let name = line[..<colon].lowercased()
            let value = HTTPField.trimmingOWS(line[line.index(after: colon)...])
            headers.append((name, String(value)))
        }
    }

    init?(_ request: HTTPFetchRequest, caBundle: [UInt8]?) throws(HTTPFetchError) {
        CurlGlobal.ensureInitialized()
        guard let h = curl_easy_init() else { return nil }
        handle = h
        transfer = Transfer(maxBytes: request.maxBytes)
        try configure(request, caBundle: caBundle)
    }

    deinit {
        curl_easy_cleanup(handle)
        if let requestHeaders { curl_slist_free_all(requestHeaders) }
    }

    private func check(_ code: CURLcode, _ what: String) throws(HTTPFetchError) {
        guard code == CURLE_OK else {
            throw HTTPFetchError("cannot set \(what): \(String(cString: curl_easy_strerror(code)))")
        }
    }

    private func configure(_ request: HTTPFetchRequest, caBundle: [UInt8]?) throws(HTTPFetchError) {
        try check(authzd_curl_setopt_string(handle, CURLOPT_URL, request.url), "url")
        // Never let curl raise SIGALRM or SIGPIPE in a multi-threaded daemon.
        try check(authzd_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1), "nosignal")
        let timeoutMS = max(1, Int(request.timeoutSeconds * 1000))
        try check(authzd_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeoutMS), "timeout")
        try check(authzd_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, timeoutMS), "connect timeout")
        // A plain-http URL may be upgraded by a redirect; an https one is never downgraded.
        let protocols = request.url.lowercased().hasPrefix("http://") ? "http,https" : "https"
        try check(authzd_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, protocols), "protocols")
        try check(authzd_curl_setopt_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, protocols), "redirect protocols")
        try check(authzd_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, request.maxRedirects > 0 ? 1 : 0), "follow location")
        try check(authzd_curl_setopt_long(handle, CURLOPT_MAXREDIRS, max(0, request.maxRedirects)), "max redirects")
        // curl stops early when the server announces a larger body; the write callback covers
        // bodies whose length is not announced.
        try check(authzd_curl_setopt_long(handle, CURLOPT_MAXFILESIZE, request.maxBytes), "max file size")
        try check(authzd_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1), "verify peer")
        try check(authzd_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2), "verify host")
        try check(authzd_curl_setopt_string(handle, CURLOPT_USERAGENT, "authzd"), "user agent")
        try check(authzd_curl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, ""), "accept encoding")
        for field in request.headers {
            let line = "\(field.name): \(field.value)"
            guard !field.name.isEmpty, !line.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else {
                throw HTTPFetchError("header \(field.name.debugDescription) holds a control character")
            }
            guard let grown = curl_slist_append(requestHeaders, line) else { throw HTTPFetchError("out of memory for headers") }
            requestHeaders = grown
        }
        if let requestHeaders {
            try check(authzd_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, requestHeaders), "headers")
        }
        switch request.method {
        case .get:
            break
        case .post:
            // COPYPOSTFIELDS copies the bytes, so the body need not outlive this call; the size
            // goes first so a body holding NUL bytes is sent whole.
            let body = request.body ?? []
            try check(authzd_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count), "body size")
            let code = body.isEmpty
                ? authzd_curl_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, "")
                : body.withUnsafeBytes { b in
                    authzd_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: b.baseAddress!))
                }
            try check(code, "body")
        }
        if let caBundle {
            // CURLOPT_CAINFO_BLOB replaces the default bundle; the caller passes system + extra.
            let code = caBundle.withUnsafeBytes { b in
                authzd_curl_setopt_blob_copy(handle, CURLOPT_CAINFO_BLOB, UnsafeMutableRawPointer(mutating: b.baseAddress), b.count)
            }
            try check(code, "CA bundle")
        }
        try check(authzd_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, transfer.errorBuffer), "error buffer")
        let me = Unmanaged.passUnretained(transfer).toOpaque()
        try check(authzd_curl_setopt_write_function(handle, CURLOPT_WRITEFUNCTION, { ptr, size, count, user in
            let t = Unmanaged<CurlEasy.Transfer>.fromOpaque(user!).takeUnretainedValue()
            let n = size * count
            guard t.body.count + n <= t.maxBytes else {
                t.tooLarge = true
                return 0 // curl aborts the transfer with CURLE_WRITE_ERROR
            }
            if n > 0, let ptr {
                ptr.withMemoryRebound(to: UInt8.self, capacity: n) { t.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: n)) }
            }
            return n
        }), "write function")
        try check(authzd_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, me), "write data")
        try check(authzd_curl_setopt_write_function(handle, CURLOPT_HEADERFUNCTION, { ptr, size, count, user in
            let t = Unmanaged<CurlEasy.Transfer>.fromOpaque(user!).takeUnretainedValue()
            let n = size * count
            if n > 0, let ptr {
                ptr.withMemoryRebound(to: UInt8.self, capacity: n) { t.addHeaderLine(UnsafeBufferPointer(start: $0, count: n)) }
            }
            return n
        }), "header function")
        try check(authzd_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, me), "header data")
    }

    /// Runs the transfer to completion on the calling thread (which blocks).
    func perform() -> Result<HTTPFetchResponse, HTTPFetchError> {
        let code = withExtendedLifetime(transfer) { curl_easy_perform(handle) }
        if transfer.tooLarge || code == CURLE_FILESIZE_EXCEEDED {
            return .failure(HTTPFetchError("response larger than \(transfer.maxBytes) bytes"))
        }
        guard code == CURLE_OK else {
            let detail = String(cString: transfer.errorBuffer)
            return .failure(HTTPFetchError(detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail))
        }
        var status = 0
        _ = authzd_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPFetchResponse(status: status, headers: transfer.headers, body: transfer.body))
    }

    /// The CA bundle file libcurl was built to use, if it reports one.
    static func defaultCAInfo() -> String? {
        CurlGlobal.ensureInitialized()
        guard let h = curl_easy_init() else { return nil }
        defer { curl_easy_cleanup(h) }
        var path: UnsafePointer<CChar>? = nil
        guard authzd_curl_getinfo_string(h, CURLINFO_CAINFO, &path) == CURLE_OK, let path else { return nil }
        return String(cString: path)
    }
}

/// `curl_global_init` must run once, before any other thread uses libcurl.
enum CurlGlobal {
    private static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()

    static func ensureInitialized() { _ = initialized }
}
