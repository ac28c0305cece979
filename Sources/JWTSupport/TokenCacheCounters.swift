import Synchronization

/// Hits and misses of every verified-token cache in the process, for the
/// `authzd_token_cache_hits_total` and `authzd_token_cache_misses_total` metrics. A hit is a
/// token found verified; a miss is a token that had to be verified by its signature and was then
/// cached (a step may look a token up twice around a key-set fetch, and a token that fails
/// verification was never cacheable, so counting lookups would say less). Relaxed atomics: the
/// request path pays one add, and the totals are read at scrape time.
public final class TokenCacheCounters: Sendable {
    /// The process's counts.
    public static let shared = TokenCacheCounters()

    public let hits = Atomic<Int>(0)
    public let misses = Atomic<Int>(0)

    init() {}

    /// Counts a hit, or a miss (a verified token being cached).
    @inline(__always)
    func record(hit: Bool) {
        if hit {
            hits.add(1, ordering: .relaxed)
        } else {
            misses.add(1, ordering: .relaxed)
        }
    }
}
