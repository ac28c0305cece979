/// A fetch over HTTP(S), as a JWKS source needs it.
public struct HTTPFetchRequest: Sendable {
    public var url: String
    /// Bounds connect and transfer together.
    public var timeoutSeconds: Double
    /// Extra CA bundle besides the system's.
    public var caFile: String?
    public var maxBytes: Int
    public var maxRedirects: Int

    public init(url: String, timeoutSeconds: Double, caFile: String? = nil, maxBytes: Int = 1 << 20, maxRedirects: Int = 3) {
        self.url = url
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
