import AuthzCore
import AuthzJSON
import AuthzMetrics
import JWTSupport
import Logging
import ServiceLifecycle

extension Daemon {
    /// The `[metrics] listen` listener as a service of the daemon's group, when one is
    /// configured. It is listed before the socket server, so it stops after the server drained.
    func metricsListener(shared: ServerShared, logger: Logger) -> [any Service] {
        guard let listen = configuration.metrics.listen else { return [] }
        let metrics = shared.metrics
        let server = MetricsServer(listen: listen, logger: logger) {
            metrics.exposition(Self.metricsSnapshot(shared))
        }
        return [MetricsListenerService(server: server)]
    }

    /// What the scrape copies in from state kept elsewhere: open connections, token-cache counts
    /// and each key set's fetches and keys (from the details its source reports).
    static func metricsSnapshot(_ shared: ServerShared) -> DaemonMetrics.Snapshot {
        var sources: [DaemonMetrics.Snapshot.JWKSSource] = []
        for (_, resource) in shared.resources.all {
            guard let reporting = resource as? any SourceReporting else { continue }
            let report = reporting.report
            guard report.kind == "jwks", case .object(let s) = report.details else { continue }
            let fetches = s["fetches"]?.numberValue?.int64.map(Int.init) ?? 0
            let failures = s["failures"]?.numberValue?.int64.map(Int.init) ?? 0
            // `fetches` counts started fetches; one still running has no result yet.
            let running = s["fetching"]?.boolValue == true ? 1 : 0
            sources.append(.init(url: report.name, succeeded: max(0, fetches - failures - running), failed: failures,
                                 keys: s["keys"]?.numberValue?.int64.map(Int.init) ?? 0))
        }
        return DaemonMetrics.Snapshot(
            connections: shared.connectionCount.load(ordering: .relaxed),
            tokenCacheHits: TokenCacheCounters.shared.hits.load(ordering: .relaxed),
            tokenCacheMisses: TokenCacheCounters.shared.misses.load(ordering: .relaxed),
            jwks: sources)
    }
}

/// Serves `GET /metrics` from start-up until graceful shutdown. A daemon asked to export
/// metrics that cannot listen is misconfigured and says so by not starting.
struct MetricsListenerService: Service {
    let server: MetricsServer

    func run() async throws {
        do {
            try await server.start()
        } catch {
            throw DaemonError("\(error)")
        }
        try? await gracefulShutdown()
        await server.stop()
    }
}
