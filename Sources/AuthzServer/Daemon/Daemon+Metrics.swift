import AuthzCore
import AuthzJSON
import AuthzMetrics
import JWTSupport

extension Daemon {
    /// The Prometheus registry and handles this daemon records into.
    public var metrics: DaemonMetrics { shared.metrics }

    /// Starts the `[metrics] listen` listener when one is configured. Returns false (having
    /// logged why) when it cannot listen: a daemon asked to export metrics and unable to is
    /// misconfigured, and says so by not starting.
    func startMetricsListener(_ settings: MetricsSettings) -> Bool {
        guard let listen = settings.listen else { return true }
        let metrics = shared.metrics
        let server = MetricsServer(listen: listen, logger: logger) { [weak self] in
            guard let self else { return [] }
            return metrics.exposition(self.metricsSnapshot())
        }
        do {
            try server.start()
        } catch {
            logger.critical("\(error)")
            return false
        }
        metricsServer = server
        return true
    }

    /// What the scrape copies in from state kept elsewhere: open connections, token-cache counts
    /// and each JWKS source's fetches and keys (from the same stats the `stats` op reports).
    func metricsSnapshot() -> DaemonMetrics.Snapshot {
        var sources: [DaemonMetrics.Snapshot.JWKSSource] = []
        for (_, resource) in shared.resources.all {
            guard let reporting = resource as? any StatsReporting, case .object(let s) = reporting.stats,
                  let url = s["url"]?.stringValue else { continue }
            let fetches = s["fetches"]?.numberValue?.int64.map(Int.init) ?? 0
            let failures = s["failures"]?.numberValue?.int64.map(Int.init) ?? 0
            // `fetches` counts started fetches; one still running has no result yet.
            let running = s["fetching"]?.boolValue == true ? 1 : 0
            sources.append(.init(url: url, succeeded: max(0, fetches - failures - running), failed: failures,
                                 keys: s["keys"]?.numberValue?.int64.map(Int.init) ?? 0))
        }
        return DaemonMetrics.Snapshot(
            connections: shared.connectionCount.load(ordering: .relaxed),
            tokenCacheHits: TokenCacheCounters.shared.hits.load(ordering: .relaxed),
            tokenCacheMisses: TokenCacheCounters.shared.misses.load(ordering: .relaxed),
            jwks: sources)
    }
}
