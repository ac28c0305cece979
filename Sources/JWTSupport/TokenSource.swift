import AuthzCore

/// Where a JWT step looks for its token (`token_from`).
public enum TokenSource: Sendable, Equatable {
    /// The Authorization header, raw or after a case-insensitive `Bearer `.
    case authorization
    case header(String)
    case cookie(String)
    case query(String)

    /// Parses `authorization`, `header:NAME`, `cookie:NAME` or `query:NAME`.
    public init?(_ text: String) {
        if text == "authorization" { self = .authorization; return }
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[1].isEmpty else { return nil }
        let name = String(parts[1])
        switch parts[0] {
        case "header": self = .header(Headers.lowercase(name))
        case "cookie": self = .cookie(name)
        case "query": self = .query(name)
        default: return nil
        }
    }

    /// The token this source finds in a request, if any.
    public func token(in request: CheckRequest) -> String? {
        switch self {
        case .authorization:
            guard let value = request.headers["authorization"] else { return nil }
            return TokenSource.stripBearer(value)
        case .header(let name):
            guard let value = request.headers[name] else { return nil }
            return TokenSource.stripBearer(value)
        case .cookie(let name):
            // An empty value ("jwt=") carries no credentials: no_token, not malformed_token.
            return request.cookie(name).flatMap { $0.isEmpty ? nil : $0 }
        case .query(let name):
            return request.queryParameter(name).flatMap { $0.isEmpty ? nil : $0 }
        }
    }

    /// Ant Media accepts the token raw or after `Bearer `; so do we, with any capitalisation.
    static func stripBearer(_ value: String) -> String? {
        var v = Substring(value)
        while v.first == " " { v = v.dropFirst() }
        if v.utf8.count > 7 {
            let prefix = v.utf8.prefix(7)
            let bearer: [UInt8] = Array("bearer ".utf8)
            if zip(prefix, bearer).allSatisfy({ ($0 | 0x20) == $1 || ($0 == 0x20 && $1 == 0x20) }) {
                v = v.dropFirst(7)
                while v.first == " " { v = v.dropFirst() }
            }
        }
        while v.last == " " { v = v.dropLast() }
        // "Bearer" with nothing after it carries no credentials: no_token, not a malformed token.
        if v.utf8.count == 6, v.lowercased() == "bearer" { return nil }
        return v.isEmpty ? nil : String(v)
    }
}
