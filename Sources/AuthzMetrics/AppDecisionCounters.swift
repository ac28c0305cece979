import AuthzCore
import Prometheus
import Synchronization

/// The `authzd_decisions_total` series of one app, resolved when the app is first configured so
/// that counting a decision is an array index and an atomic add: no registry lookup, no lock,
/// no allocation.
///
/// Every series the app can produce exists from the start (zero until used): an allow with
/// reason `ok`, and a deny for each reason code of ``Reason/all``. The label values come from
/// the configuration and the fixed code list, never from a request.
public final class AppDecisionCounters: Sendable {
    /// The app label: a configured name or ``DaemonMetrics/unknownApp``.
    public let app: String
    private let allowed: Counter
    /// Indexed like ``reasonIndex``.
    private let denied: [Counter]
    private let registry: PrometheusCollectorRegistry
    /// A pairing outside the table (an allow with a reason other than `ok`, a code added to the
    /// wire but not to ``Reason/all``): still counted, looked up on that rare path only.
    private let others = Mutex<[String: Counter]>([:])

    /// Deny reasons by code, each with its slot in `denied`.
    static let denyReasons: [Reason] = Reason.all.filter { $0 != .ok }
    static let reasonIndex: [String: Int] = Dictionary(
        uniqueKeysWithValues: denyReasons.enumerated().map { ($0.element.code, $0.offset) })

    init(app: String, registry: PrometheusCollectorRegistry) {
        self.app = app
        self.registry = registry
        allowed = registry.makeCounter(descriptor: MetricName.decisions,
                                       labels: [("app", app), ("decision", "allow"), ("reason", Reason.ok.code)])
        denied = Self.denyReasons.map { reason in
            registry.makeCounter(descriptor: MetricName.decisions,
                                 labels: [("app", app), ("decision", "deny"), ("reason", reason.code)])
        }
    }

    /// Counts one decision.
    @inline(__always)
    public func record(allow: Bool, reason: Reason) {
        if allow {
            if reason == .ok { allowed.increment(); return }
        } else if let i = Self.reasonIndex[reason.code] {
            denied[i].increment()
            return
        }
        other(allow: allow, reason: reason).increment()
    }

    private func other(allow: Bool, reason: Reason) -> Counter {
        let decision = allow ? "allow" : "deny"
        return others.withLock { d in
            let key = decision + " " + reason.code
            if let c = d[key] { return c }
            let c = registry.makeCounter(descriptor: MetricName.decisions,
                                         labels: [("app", app), ("decision", decision), ("reason", reason.code)])
            d[key] = c
            return c
        }
    }
}
