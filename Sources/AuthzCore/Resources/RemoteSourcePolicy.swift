/// How long a remote document stays fresh and servable and how often it may be fetched: the
/// cache keys of a step that fetches something (`cache_ttl`, `min_refetch_interval`, `max_stale`,
/// `fetch_timeout`), in seconds.
public struct RemoteSourcePolicy: Sendable, Hashable {
    /// A fetched document is fresh this long, unless the response's Cache-Control says less.
    public var cacheTTL: Double
    /// A request-triggered fetch starts at most this long after the previous one ended.
    public var minRefetchInterval: Double
    /// Past freshness, the last good document keeps serving this long while fetches fail.
    public var maxStale: Double
    /// Bounds each fetch (the fetcher enforces it).
    public var fetchTimeout: Double
    /// Requests wait for a fetch at most this long; the slack past `fetchTimeout` lets the
    /// fetcher's own timeout, with its better message, usually end the fetch first.
    public var waitLimit: Double
    /// Retries after failures back off from `minRefetchInterval`, doubling up to this.
    public var maxBackoff: Double

    public init(cacheTTL: Double, minRefetchInterval: Double, maxStale: Double, fetchTimeout: Double,
                waitLimit: Double? = nil, maxBackoff: Double = 300) {
        self.cacheTTL = cacheTTL
        self.minRefetchInterval = minRefetchInterval
        self.maxStale = maxStale
        self.fetchTimeout = fetchTimeout
        self.waitLimit = waitLimit ?? fetchTimeout + 0.5
        self.maxBackoff = maxBackoff
    }

    /// The shortest freshness granted whatever Cache-Control says, so a provider answering
    /// `max-age=0` cannot make us fetch on every request.
    public var freshnessFloor: Double { min(cacheTTL, 30) }

    /// How long a document fetched with this Cache-Control header stays fresh: `cacheTTL`, or a
    /// smaller `max-age` (`no-store`, `no-cache`: none), never below `freshnessFloor`.
    public func freshness(cacheControl: String?) -> Double {
        var fresh = cacheTTL
        if let cc = cacheControl {
            for directive in cc.lowercased().split(separator: ",") {
                var text = directive
                while text.first == " " || text.first == "\t" { text = text.dropFirst() }
                while text.last == " " || text.last == "\t" { text = text.dropLast() }
                if text == "no-store" || text == "no-cache" {
                    fresh = 0
                } else if text.hasPrefix("max-age=") {
                    var value = text.dropFirst("max-age=".count)
                    if value.first == "\"", value.last == "\"", value.count >= 2 { value = value.dropFirst().dropLast() }
                    if let n = Int(value), n >= 0 { fresh = min(fresh, Double(n)) }
                }
            }
        }
        return max(fresh, freshnessFloor)
    }

    /// When to refresh a document fresh for `fresh` seconds: at 80% of it, so requests never
    /// see it go stale while the provider answers.
    public func refreshDelay(fresh: Double) -> Double { fresh * 0.8 }

    /// The wait before retrying after `failures` consecutive failed fetches (at least one).
    public func backoff(afterFailures failures: Int) -> Double {
        let base = max(1, minRefetchInterval)
        return min(base * Double(1 << min(max(failures, 1) - 1, 10)), maxBackoff)
    }
}
