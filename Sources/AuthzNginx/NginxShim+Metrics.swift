import AuthzCore
import AuthzMetrics
import Logging
import NIOCore

extension NginxShim {
    /// Starts the `--metrics-listen` listener, or returns nil when none was asked for. It
    /// serves `GET /metrics` (the shim's counters) and `GET /healthz`: 200 when authzd answers a
    /// `ping` sent over the pool, 503 when it cannot be reached, so a load balancer or monitor
    /// sees the same thing nginx would (every check 503).
    public func startMetricsListener(_ listen: MetricsListenAddress?, metrics: ShimMetrics,
                                     logger: Logger) async throws -> MetricsServer? {
        guard let listen else { return nil }
        let pool = self.pool
        let server = MetricsServer(
            listen: listen, logger: logger, exposition: { metrics.exposition() },
            health: { eventLoop in pool.ping(on: eventLoop) })
        try await server.start()
        return server
    }
}
