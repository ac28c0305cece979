import CoreMetrics
import Prometheus

/// authzd-nginx's metrics (SPEC §7): subrequests by the status answered, and upstream errors.
///
/// The status label is bounded: the statuses the shim answers (see `AuthResponse`) each have a
/// series from the start; any other status authzd might return is counted as `other`.
public final class ShimMetrics: Sendable {
    /// Statuses with a series of their own.
    public static let statuses = [200, 400, 401, 403, 431, 500, 503]

    public let registry = PrometheusCollectorRegistry()
    /// Indexed like ``statuses``.
    private let byStatus: [Prometheus.Counter]
    private let otherStatus: Prometheus.Counter
    private let upstreamErrors: Prometheus.Counter

    public init() {
        let registry = self.registry
        byStatus = Self.statuses.map { registry.makeCounter(descriptor: MetricName.nginxRequests, labels: [("status", String($0))]) }
        otherStatus = registry.makeCounter(descriptor: MetricName.nginxRequests, labels: [("status", "other")])
        upstreamErrors = registry.makeCounter(descriptor: MetricName.nginxUpstreamErrors)
    }

    /// Counts one answered subrequest.
    public func recordResponse(status: Int) {
        if let i = Self.statuses.firstIndex(of: status) {
            byStatus[i].increment()
        } else {
            otherStatus.increment()
        }
    }

    /// Counts one subrequest answered 503 because authzd gave no usable answer.
    public func recordUpstreamError() {
        upstreamErrors.increment()
    }

    /// The exposition (text format 0.0.4).
    public func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }

    /// Makes MetricsSystem (swift-metrics) report into this registry. Once per process.
    public func bootstrapMetricsSystem() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }
}
