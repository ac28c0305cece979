import AuthzCore
import AuthzJSON
import Logging
import Synchronization

/// How one introspection endpoint (a URL asked with one client) is doing, shared by every step
/// that names it and kept across reloads that keep it, so that `stats` and the status line show
/// it beside the key sets: state `ok` while its last call got an RFC 7662 answer (or before any
/// call), `unavailable` while its last call failed. It also logs an outage once, when it starts
/// and when it ends, rather than once per call.
///
/// It records outcomes only: each step keeps its own answers (`IntrospectionCache`). Nothing
/// here holds or shows a token: the errors are the cache's words for a failed call.
final class IntrospectionEndpoint: SourceReporting {
    let url: String
    let clientID: String?
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var calls = 0
        var failures = 0
        var active = 0
        var inactive = 0
        /// Unix seconds of the last call's end.
        var lastCall: Int?
        /// Why the last call failed, while it is the last call.
        var failing: String?
        /// Why the most recent failed call failed, kept after the endpoint recovers.
        var lastFailure: String?
        var lastFailureAt: Int?
    }

    init(settings: IntrospectionSettings, logger: Logger) {
        url = settings.url
        clientID = settings.client?.id
        self.logger = logger
    }

    /// The shared-resource key: the endpoint and who asks it (a wrong secret for one client
    /// must not show as another's outage).
    static func resourceKey(_ settings: IntrospectionSettings) -> String {
        "oauth2_introspection:\(settings.url)|client=\(settings.client?.id ?? "")|ca=\(settings.caFile)"
    }

    /// Counts one finished call and logs a change between answering and failing.
    func record(_ answer: IntrospectionAnswer) {
        let now = Int(IntrospectionCache.epochSeconds())
        let (wasFailing, why): (Bool, String?) = state.withLock { s in
            let before = s.failing != nil
            s.calls += 1
            s.lastCall = now
            switch answer {
            case .active: s.active += 1; s.failing = nil
            case .inactive: s.inactive += 1; s.failing = nil
            case .unavailable(let why):
                s.failures += 1
                s.failing = why
                s.lastFailure = why
                s.lastFailureAt = now
            }
            return (before, s.failing)
        }
        if let why, !wasFailing {
            logger.warning("introspection endpoint unavailable; checks that need it are denied (503)",
                           metadata: ["url": .string(url), "error": .string(why)])
        } else if why == nil, wasFailing {
            logger.info("introspection endpoint answers again", metadata: ["url": .string(url)])
        }
    }

    var report: SourceReport {
        let s = state.withLock { $0 }
        var d = JSONObject()
        d["url"] = .string(url)
        d["client_id"] = clientID.map { .string($0) } ?? .null
        d["calls"] = .number(JSONNumber(s.calls))
        d["failures"] = .number(JSONNumber(s.failures))
        d["active"] = .number(JSONNumber(s.active))
        d["inactive"] = .number(JSONNumber(s.inactive))
        d["last_call"] = s.lastCall.map { .number(JSONNumber($0)) } ?? .null
        d["last_failure"] = s.lastFailure.map { .string($0) } ?? .null
        d["last_failure_at"] = s.lastFailureAt.map { .number(JSONNumber($0)) } ?? .null
        let summary = s.calls == 0 ? "no calls yet"
            : "\(s.calls) call\(s.calls == 1 ? "" : "s"), \(s.failures) failed"
        return SourceReport(kind: "oauth2_introspection", name: url, state: s.failing == nil ? .ok : .unavailable,
                            summary: summary, lastError: s.failing, details: .object(d))
    }

    /// Nothing runs on its own: calls belong to the steps' caches.
    func shutdown() {}
}
