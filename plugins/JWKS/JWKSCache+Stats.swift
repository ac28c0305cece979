import AuthzCore
import AuthzJSON

extension JWKSCache {
    /// Listed under its URL in `stats` answers.
    public var statsKey: String { settings.url }

    /// The source's state for `stats`: url, usable keys, last fetch time (unix seconds) and
    /// result, fetch and failure counts, and whether a stale set is being served.
    public var stats: JSONValue {
        let now = clockReading()
        let s = statsSnapshot()
        var o = JSONObject()
        o["url"] = .string(settings.url)
        o["keys"] = .number(JSONNumber(s.snapshot?.keys.keys.count ?? 0))
        o["skipped_keys"] = .number(JSONNumber(s.snapshot?.keys.skipped.count ?? 0))
        o["generation"] = .number(JSONNumber(Int(s.snapshot?.generation ?? 0)))
        o["fetches"] = .number(JSONNumber(s.fetchCount))
        o["failures"] = .number(JSONNumber(s.failureCount))
        o["last_fetch"] = s.lastAttemptStart.map { .number(JSONNumber(Int($0))) } ?? .null
        o["last_result"] = .string(s.lastResult)
        o["fetching"] = .bool(s.fetching)
        if let snap = s.snapshot {
            o["fetched_at"] = .number(JSONNumber(Int(snap.fetchedAt)))
            o["fresh_until"] = .number(JSONNumber(Int(snap.freshUntil)))
            o["serving_stale"] = .bool(now >= snap.freshUntil && now < snap.staleUntil)
            o["expired"] = .bool(now >= snap.staleUntil)
        } else {
            o["serving_stale"] = .bool(false)
        }
        return .object(o)
    }
}

extension JWKSCache: StartupWaiting {
    /// The first fetch (started when the configuration loaded): READY waits for it, bounded by
    /// `fetch_timeout`, so a restart does not make the first requests wait.
    public func whenStarted(_ callback: @escaping @Sendable () -> Void) {
        if let attempt = currentAttempt() {
            attempt.whenReady(callback)
        } else {
            callback()
        }
    }

    public var maxStartupWait: Double { Double(settings.fetchTimeout) + 0.5 }
}
