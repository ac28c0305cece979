/// One HTTP(S) exchange a remote source asks for: a key set, a discovery document, or an
/// introspection call (a POST with a form body and client credentials).
public struct HTTPFetchRequest: Sendable {
    /// The methods remote sources use.
    public enum Method: String, Sendable {
        case get = "GET"
        case post = "POST"
    }

    public var url: String
    public var method: Method
    /// Request headers besides curl's own (Host, User-Agent, Accept-Encoding). A name or value
    /// holding CR, LF or NUL fails the fetch rather than reaching the wire.
    public var headers: [(name: String, value: String)]
    /// Sent as the request body (POST); nil sends none.
    public var body: [UInt8]?
    /// Bounds connect and transfer together.
    public var timeoutSeconds: Double
    /// Extra CA bundle besides the system's.
    public var caFile: String?
    public var maxBytes: Int
    public var maxRedirects: Int

    public init(url: String, timeoutSeconds: Double, caFile: String? = nil, maxBytes: Int = 1 << 20,
                maxRedirects: Int = 3, method: Method = .get, headers: [(name: String, value: String)] = [],
                body: [UInt8]? = nil) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.timeoutSeconds = timeoutSeconds
        self.caFile = caFile
        self.maxBytes = maxBytes
        self.maxRedirects = maxRedirects
    }
}

/// A completed HTTP exchange (any status).
public struct HTTPFetchResponse: Sendable {
    public var status: Int
    /// Header names lowercased.
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        let n = name.lowercased()
        return headers.first { $0.0 == n }?.1
    }
}

/// A transport failure (no HTTP answer): timeout, refused, TLS, too large.
public struct HTTPFetchError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Fetches off the event loops; the completion runs on some other thread.
public protocol HTTPFetcher: Sendable {
    func fetch(_ request: HTTPFetchRequest, completion: @escaping @Sendable (Result<HTTPFetchResponse, HTTPFetchError>) -> Void)
}

extension HTTPFetchRequest {
    /// Whether `url` is one a remote source may be configured with: `https://HOST...` or
    /// `http://HOST...`, with no whitespace, control characters or user info (credentials go in
    /// their own settings, never in a URL that may be logged).
    public static func isValidURL(_ url: String) -> Bool {
        let lower = url.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") {
            rest = url.dropFirst(8)
        } else if lower.hasPrefix("http://") {
            rest = url.dropFirst(7)
        } else {
            return false
        }
        guard !url.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else { return false }
        let host = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return !host.isEmpty && !host.hasPrefix(":") && !host.contains("@")
    }
}
