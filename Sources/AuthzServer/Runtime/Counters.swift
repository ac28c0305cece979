import AuthzCore
import AuthzMetrics
import Synchronization

/// Allow and deny counts of one app and its decision-record budget, kept across reloads.
/// Relaxed atomics: the counts are for people and STATUS lines, and must not cost the hot path
/// a lock.
final class AppCounters: Sendable {
    let allowed = Atomic<Int>(0)
    let denied = Atomic<Int>(0)
    /// Decision records this app may still write this second, shared by every event loop.
    let records = DecisionRecordBudget()
    /// Its `authzd_decisions_total` series, resolved once (metrics).
    let decisions: AppDecisionCounters

    init(decisions: AppDecisionCounters) {
        self.decisions = decisions
    }

    func record(allow: Bool, reason: Reason) {
        decisions.record(allow: allow, reason: reason)  // metrics
        if allow {
            allowed.add(1, ordering: .relaxed)
        } else {
            denied.add(1, ordering: .relaxed)
        }
    }
}

/// Counters by app name; an app keeps its counts when a reload rebuilds its chain.
///
/// Only names the configuration defines get an entry (``Runtime`` asks for them), so a client
/// cannot grow this map: requests for any other name share ``unknownApp``, its counts and its
/// decision-record budget, as SPEC §7 counts them under `app="_unknown"`.
final class CounterRegistry: Sendable {
    /// The name under which apps that are not configured are reported.
    static let unknownAppName = DaemonMetrics.unknownApp

    private let byApp = Mutex<[String: AppCounters]>([:])
    /// Requests for apps that do not exist, and lines that were not valid requests.
    let unknownApp: AppCounters
    let badRequests = Atomic<Int>(0)
    /// Where each app's decision counters are registered (metrics).
    let metrics: DaemonMetrics

    init(metrics: DaemonMetrics = DaemonMetrics(version: "unknown")) {
        self.metrics = metrics
        self.unknownApp = AppCounters(decisions: metrics.decisionCounters(app: Self.unknownAppName))
    }

    /// A line that was not a valid request (`bad_request`, `line_too_long`): counted among the
    /// bad requests and, as a decision, under the unknown app.
    func recordBadLine(_ reason: Reason) {
        badRequests.add(1, ordering: .relaxed)
        unknownApp.decisions.record(allow: false, reason: reason)  // metrics
    }

    /// The counters of a configured app, created on first use. Never call it with a name taken
    /// from a request.
    func counters(for app: String) -> AppCounters {
        byApp.withLock { d in
            if let c = d[app] { return c }
            let c = AppCounters(decisions: metrics.decisionCounters(app: app))
            d[app] = c
            return c
        }
    }

    /// Allowed and denied totals over all apps.
    func totals() -> (allowed: Int, denied: Int) {
        let apps = byApp.withLock { Array($0.values) }
        var a = 0, d = unknownApp.denied.load(ordering: .relaxed)
        for c in apps {
            a += c.allowed.load(ordering: .relaxed)
            d += c.denied.load(ordering: .relaxed)
        }
        return (a, d)
    }
}
