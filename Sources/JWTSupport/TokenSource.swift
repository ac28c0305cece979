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
    /// Works on UTF-8 bytes: this runs for every request.
    static func stripBearer(_ value: String) -> String? {
        let u = value.utf8
        var start = u.startIndex
        var end = u.endIndex
        while start < end, u[start] == 0x20 || u[start] == 0x09 { start = u.index(after: start) }
        while end > start {
            let before = u.index(before: end)
            guard u[before] == 0x20 || u[before] == 0x09 else { break }
            end = before
        }
        if u.distance(from: start, to: end) >= 7 {
            var i = start
            var matches = true
            for expected in "bearer".utf8 {
                if u[i] | 0x20 != expected { matches = false; break }
                i = u.index(after: i)
            }
            if matches, u[i] == 0x20 || u[i] == 0x09 {
                start = i
                while start < end, u[start] == 0x20 || u[start] == 0x09 { start = u.index(after: start) }
            }
        } else if u.distance(from: start, to: end) == 6 {
            // A bare "Bearer" carries no token.
            var i = start
            var bare = true
            for expected in "bearer".utf8 {
                if u[i] | 0x20 != expected { bare = false; break }
                i = u.index(after: i)
            }
            if bare { return nil }
        }
        guard start < end else { return nil }
        if start == u.startIndex && end == u.endIndex { return value }
        return String(value[start..<end])
    }
}
