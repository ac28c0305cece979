import AuthzCore

/// Where a key set comes from and how long its copies live (the `jwks` step's cache keys, SPEC §4
/// and §8).
public struct JWKSSourceSettings: Sendable, Hashable {
    /// The JWKS endpoint, `https://` (or `http://`); empty when `oidcIssuer` names the provider.
    public var url: String
    /// The OpenID provider whose discovery document names the key set (`jwks_uri`); empty when
    /// `url` is given.
    public var oidcIssuer: String
    /// Extra CA bundle (a resolved path) trusted besides the system's; empty for none.
    public var caFile: String
    /// Seconds a fetched set is fresh, unless the response's Cache-Control max-age is smaller.
    public var cacheTTL: Int
    /// An unknown kid triggers a fetch at most this often.
    public var minRefetchInterval: Int
    /// Seconds past freshness that the last good set keeps serving while fetches fail.
    public var maxStale: Int
    /// Bounds each fetch, connect and transfer together.
    public var fetchTimeout: Int

    public init(url: String = "", oidcIssuer: String = "", caFile: String = "", cacheTTL: Int = 300,
                minRefetchInterval: Int = 10, maxStale: Int = 86400, fetchTimeout: Int = 5) {
        self.url = url
        self.oidcIssuer = oidcIssuer
        self.caFile = caFile
        self.cacheTTL = cacheTTL
        self.minRefetchInterval = minRefetchInterval
        self.maxStale = maxStale
        self.fetchTimeout = fetchTimeout
    }

    /// The shared-resource key: every app naming the same source with the same settings shares
    /// one cache, which survives reloads that keep them.
    public var resourceKey: String {
        let source = oidcIssuer.isEmpty ? url : "oidc=" + oidcIssuer
        return "jwks:\(source)|\(caFile)|ttl=\(cacheTTL)|refetch=\(minRefetchInterval)|stale=\(maxStale)|timeout=\(fetchTimeout)"
    }

    /// Where the discovery document is: the issuer without one trailing slash, then
    /// `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0, section 4).
    public var discoveryURL: String {
        let base = oidcIssuer.hasSuffix("/") ? String(oidcIssuer.dropLast()) : oidcIssuer
        return base + "/.well-known/openid-configuration"
    }

    /// The cache rules of the key set. Under `oidc_issuer` a first fetch may need discovery
    /// first, so requests may wait for two fetches.
    public var policy: RemoteSourcePolicy {
        let timeout = Double(fetchTimeout)
        return RemoteSourcePolicy(cacheTTL: Double(cacheTTL), minRefetchInterval: Double(minRefetchInterval),
                                  maxStale: Double(maxStale), fetchTimeout: timeout,
                                  waitLimit: oidcIssuer.isEmpty ? timeout + 0.5 : 2 * timeout + 0.5)
    }

    /// The cache rules of the discovery document: those of the key set, one fetch per wait.
    public var discoveryPolicy: RemoteSourcePolicy {
        RemoteSourcePolicy(cacheTTL: Double(cacheTTL), minRefetchInterval: Double(minRefetchInterval),
                           maxStale: Double(maxStale), fetchTimeout: Double(fetchTimeout))
    }

    /// How long a set fetched with this Cache-Control header stays fresh.
    func freshness(cacheControl: String?) -> Double {
        policy.freshness(cacheControl: cacheControl)
    }
}
