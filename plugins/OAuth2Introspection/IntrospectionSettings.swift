/// Where and how a step asks about tokens (SPEC §8's `oauth2_introspection` keys), validated at
/// load time.
public struct IntrospectionSettings: Sendable {
    /// The RFC 7662 endpoint, `https://` (or `http://`).
    public var url: String
    /// HTTP Basic client authentication; nil sends none.
    public var client: ClientCredentials?
    /// Seconds an active answer may be reused (never past the token's `exp`).
    public var cacheTTL: Int
    /// Bounds each call, connect and transfer together.
    public var fetchTimeout: Int
    /// Extra CA bundle (a resolved path) trusted besides the system's; empty for none.
    public var caFile: String

    public init(url: String, client: ClientCredentials?, cacheTTL: Int = 60, fetchTimeout: Int = 5, caFile: String = "") {
        self.url = url
        self.client = client
        self.cacheTTL = cacheTTL
        self.fetchTimeout = fetchTimeout
        self.caFile = caFile
    }

    /// Seconds an inactive answer is reused: short, because a token the server has not seen yet
    /// (a replica lagging behind the one that issued it) may become known, but long enough that
    /// a flood of garbage tokens does not become a flood of calls.
    public var inactiveTTL: Double { Double(min(cacheTTL, 5)) }
}
