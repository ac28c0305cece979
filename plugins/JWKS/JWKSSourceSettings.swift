/// Where a key set comes from and how long its copies live (the `jwks` step's cache keys, SPEC §4).
public struct JWKSSourceSettings: Sendable, Hashable {
    /// The JWKS endpoint, `https://` (or `http://`).
    public var url: String
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

    public init(url: String, caFile: String = "", cacheTTL: Int = 300, minRefetchInterval: Int = 10,
                maxStale: Int = 86400, fetchTimeout: Int = 5) {
        self.url = url
        self.caFile = caFile
        self.cacheTTL = cacheTTL
        self.minRefetchInterval = minRefetchInterval
        self.maxStale = maxStale
        self.fetchTimeout = fetchTimeout
    }

    /// The shared-resource key: every app naming the same source with the same settings shares
    /// one cache, which survives reloads that keep them.
    public var resourceKey: String {
        "jwks:\(url)|\(caFile)|ttl=\(cacheTTL)|refetch=\(minRefetchInterval)|stale=\(maxStale)|timeout=\(fetchTimeout)"
    }

    /// The shortest freshness granted whatever Cache-Control says, so a provider answering
    /// `max-age=0` cannot make us fetch on every request.
    var freshnessFloor: Double { Double(min(cacheTTL, 30)) }

    /// How long a set fetched with this Cache-Control header stays fresh.
    func freshness(cacheControl: String?) -> Double {
        var fresh = Double(cacheTTL)
        if let cc = cacheControl {
            for directive in cc.lowercased().split(separator: ",") {
                let d = directive.trimmingCharacters(" \t")
                if d == "no-store" || d == "no-cache" {
                    fresh = 0
                } else if d.hasPrefix("max-age=") {
                    var value = d.dropFirst("max-age=".count)
                    if value.first == "\"", value.last == "\"", value.count >= 2 { value = value.dropFirst().dropLast() }
                    if let n = Int(value), n >= 0 { fresh = min(fresh, Double(n)) }
                }
            }
        }
        return max(fresh, freshnessFloor)
    }
}

extension Substring {
    func trimmingCharacters(_ set: String) -> Substring {
        var s = self
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return s
    }
}
