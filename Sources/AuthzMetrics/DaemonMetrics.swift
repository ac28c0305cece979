import CoreMetrics
import Prometheus
import Synchronization

/// authzd's metrics (SPEC §7) in one Prometheus registry.
///
/// Two kinds of values: what the request path counts as it goes (decisions by app and reason,
/// the decision-time histogram, reloads), through handles resolved ahead of time; and what is
/// already kept elsewhere (open connections, token-cache counts, each JWKS source's fetches and
/// keys), copied in from a ``Snapshot`` at scrape time so the request path pays nothing for it.
public final class DaemonMetrics: Sendable {
    /// The `app` label of every name the configuration does not define (SPEC §7).
    public static let unknownApp = "_unknown"

    /// Histogram buckets in seconds: 10 µs (a cached token, an address check) to 1 s (a decision
    /// that waited for a key-set fetch).
    public static let durationBuckets: [Double] = [
        0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
        0.025, 0.05, 0.1, 0.25, 0.5, 1,
    ]

    /// What is read from the daemon's own state when Prometheus scrapes.
    public struct Snapshot: Sendable {
        /// One JWKS source, under its configured URL.
        public struct JWKSSource: Sendable {
            public var url: String
            public var succeeded: Int
            public var failed: Int
            public var keys: Int

            public init(url: String, succeeded: Int, failed: Int, keys: Int) {
                self.url = url
                self.succeeded = succeeded
                self.failed = failed
                self.keys = keys
            }
        }

        public var connections: Int
        public var tokenCacheHits: Int
        public var tokenCacheMisses: Int
        public var jwks: [JWKSSource]

        public init(connections: Int, tokenCacheHits: Int, tokenCacheMisses: Int, jwks: [JWKSSource]) {
            self.connections = connections
            self.tokenCacheHits = tokenCacheHits
            self.tokenCacheMisses = tokenCacheMisses
            self.jwks = jwks
        }
    }

    /// The series of one JWKS source.
    private struct SourceSeries {
        let succeeded: Prometheus.Counter
        let failed: Prometheus.Counter
        let keys: Prometheus.Gauge
    }

    public let registry = PrometheusCollectorRegistry()
    private let duration: ValueHistogram
    private let tokenCacheHits: Prometheus.Counter
    private let tokenCacheMisses: Prometheus.Counter
    private let connections: Prometheus.Gauge
    private let reloadsSucceeded: Prometheus.Counter
    private let reloadsFailed: Prometheus.Counter
    /// Series by source URL; a source no longer configured has its series removed.
    private let sources = Mutex<[String: SourceSeries]>([:])
    /// One scrape at a time: copying a snapshot in and emitting must not interleave.
    private let scrape = Mutex<[UInt8]>([])

    /// Metrics for an authzd of version `version` (the `authzd_build_info` label).
    public init(version: String) {
        duration = registry.makeValueHistogram(descriptor: MetricName.decisionDuration, buckets: Self.durationBuckets)
        tokenCacheHits = registry.makeCounter(descriptor: MetricName.tokenCacheHits)
        tokenCacheMisses = registry.makeCounter(descriptor: MetricName.tokenCacheMisses)
        connections = registry.makeGauge(descriptor: MetricName.connections)
        reloadsSucceeded = registry.makeCounter(descriptor: MetricName.configReloads, labels: [("result", "success")])
        reloadsFailed = registry.makeCounter(descriptor: MetricName.configReloads, labels: [("result", "failure")])
        registry.makeGauge(descriptor: MetricName.buildInfo, labels: [("version", version)]).set(Int64(1))
    }

    /// The decision counters of `app`: call it when a configuration is loaded, with a configured
    /// name or ``unknownApp``, never with a name taken from a request. The same name always
    /// gives series that count together.
    public func decisionCounters(app: String) -> AppDecisionCounters {
        AppDecisionCounters(app: app, registry: registry)
    }

    /// Records how long one decision took, from a monotonic clock in nanoseconds.
    @inline(__always)
    public func recordDecision(startedAt start: UInt64, now: UInt64) {
        duration.record(Double(now &- start) / 1e9)
    }

    /// Counts a reload that was applied or refused.
    public func recordReload(succeeded: Bool) {
        (succeeded ? reloadsSucceeded : reloadsFailed).increment()
    }

    /// The exposition (text format 0.0.4) with the values of `snapshot` copied in first.
    public func exposition(_ snapshot: Snapshot) -> [UInt8] {
        scrape.withLock { buffer in
            connections.set(Int64(snapshot.connections))
            Self.set(tokenCacheHits, to: snapshot.tokenCacheHits)
            Self.set(tokenCacheMisses, to: snapshot.tokenCacheMisses)
            update(sources: snapshot.jwks)
            buffer.removeAll(keepingCapacity: true)
            registry.emit(into: &buffer)
            return buffer
        }
    }

    /// Makes MetricsSystem (swift-metrics) report into this registry, so metrics that libraries
    /// record through swift-metrics are scraped with authzd's own. Once per process.
    public func bootstrapMetricsSystem() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }

    /// A counter that mirrors a count kept elsewhere. Only called under `scrape`.
    private static func set(_ counter: Prometheus.Counter, to value: Int) {
        counter.reset()
        counter.increment(by: Int64(max(0, value)))
    }

    private func update(sources current: [Snapshot.JWKSSource]) {
        sources.withLock { series in
            var seen = Set<String>()
            for s in current {
                seen.insert(s.url)
                let entry = series[s.url] ?? SourceSeries(
                    succeeded: registry.makeCounter(descriptor: MetricName.jwksFetches,
                                                    labels: [("source", s.url), ("result", "success")]),
                    failed: registry.makeCounter(descriptor: MetricName.jwksFetches,
                                                 labels: [("source", s.url), ("result", "failure")]),
                    keys: registry.makeGauge(descriptor: MetricName.jwksKeys, labels: [("source", s.url)]))
                series[s.url] = entry
                Self.set(entry.succeeded, to: s.succeeded)
                Self.set(entry.failed, to: s.failed)
                entry.keys.set(Int64(s.keys))
            }
            for (url, gone) in series where !seen.contains(url) {
                registry.unregisterCounter(gone.succeeded)
                registry.unregisterCounter(gone.failed)
                registry.unregisterGauge(gone.keys)
                series.removeValue(forKey: url)
            }
        }
    }
}
