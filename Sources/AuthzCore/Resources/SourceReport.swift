import AuthzJSON

/// How a remote source is doing, in terms every kind shares, plus its own details.
public struct SourceReport: Sendable {
    /// Whether requests can be decided with what the source holds.
    public enum State: String, Sendable {
        /// A fresh document.
        case ok
        /// Serving the last good document past its freshness while fetches fail.
        case stale
        /// Nothing that may serve: never fetched, or older than max_stale.
        case unavailable
    }

    /// What the source is (`jwks`), which groups sources in summaries and reports.
    public var kind: String
    /// Which one (its URL).
    public var name: String
    public var state: State
    /// A few words on what it holds (`3 keys`).
    public var summary: String
    /// Why the last fetch failed, if it did.
    public var lastError: String?
    /// The kind's own fields.
    public var details: JSONValue

    public init(kind: String, name: String, state: State, summary: String, lastError: String?, details: JSONValue) {
        self.kind = kind
        self.name = name
        self.state = state
        self.summary = summary
        self.lastError = lastError
        self.details = details
    }

    /// The generic part, for the `sources` list of `stats` answers.
    public var json: JSONValue {
        .object(JSONObject([
            ("kind", .string(kind)), ("name", .string(name)), ("state", .string(state.rawValue)),
            ("summary", .string(summary)), ("last_error", lastError.map { .string($0) } ?? .null),
        ]))
    }

    /// One short phrase per kind for a status line, in order of first appearance:
    /// `jwks: ok stale`; nil without sources.
    public static func statusSummary(_ reports: [SourceReport]) -> String? {
        var kinds: [String] = []
        var states: [String: [String]] = [:]
        for r in reports {
            if states[r.kind] == nil { kinds.append(r.kind) }
            states[r.kind, default: []].append(r.state.rawValue)
        }
        guard !kinds.isEmpty else { return nil }
        return kinds.map { "\($0): " + states[$0]!.joined(separator: " ") }.joined(separator: ", ")
    }
}

/// A shared resource that fetches something remote and reports on it in `stats` answers and
/// the status line, whatever its kind.
public protocol SourceReporting: SharedResource {
    var report: SourceReport { get }
}
