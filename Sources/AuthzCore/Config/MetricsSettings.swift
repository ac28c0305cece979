/// `[metrics]` settings (SPEC §7).
public struct MetricsSettings: Sendable, Equatable {
    /// Where `GET /metrics` is served; nil (`listen = ""`, the default) serves nothing.
    public var listen: MetricsListenAddress?

    public init(listen: MetricsListenAddress? = nil) {
        self.listen = listen
    }
}

/// Where a metrics listener binds: `HOST:PORT` (IPv6 as `[ADDR]:PORT`) or `unix:PATH`. The same
/// syntax for `[metrics] listen` and `authzd-nginx --metrics-listen`.
public enum MetricsListenAddress: Sendable, Equatable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case unix(path: String)

    /// Why a listen value was refused, in words fit for a `FILE:LINE:` message or a flag error.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// Parses a listen value; "" means off and gives nil.
    public static func parse(_ text: String) throws(ParseError) -> MetricsListenAddress? {
        if text.isEmpty { return nil }
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard path.hasPrefix("/") else {
                throw ParseError(description: "unix: needs an absolute socket path, as unix:/run/authzd/metrics.sock")
            }
            // sockaddr_un holds 107 bytes and a NUL; a longer path could never be bound.
            guard path.utf8.count <= 107 else {
                throw ParseError(description: "the socket path is \(path.utf8.count) bytes; a Unix socket path holds at most 107")
            }
            guard !path.utf8.contains(0) else { throw ParseError(description: "the socket path holds a NUL byte") }
            return .unix(path: path)
        }
        guard let colon = text.lastIndex(of: ":") else {
            throw ParseError(description: "expected HOST:PORT or unix:PATH, as \"127.0.0.1:9417\"")
        }
        var host = String(text[..<colon])
        guard let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            throw ParseError(description: "the port must be a number from 1 to 65535, as \"127.0.0.1:9417\"")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            throw ParseError(description: "write an IPv6 address in brackets, as \"[::1]:9417\"")
        }
        guard !host.isEmpty else { throw ParseError(description: "missing host, as \"127.0.0.1:9417\"") }
        return .tcp(host: host, port: port)
    }

    public var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }
}

extension ConfigLoader {
    /// Reads `[metrics]` into `s` (each key as `parseServer` does).
    static func parseMetrics(_ t: ConfigTable, into s: inout MetricsSettings) throws(ConfigError) {
        t.attempt { () throws(ConfigError) in
            guard let v = try t.string("listen") else { return }
            do throws(MetricsListenAddress.ParseError) {
                s.listen = try MetricsListenAddress.parse(v)
            } catch {
                throw t.error("listen", "metrics.listen: \(error.description)")
            }
        }
        try t.finish()
    }
}
