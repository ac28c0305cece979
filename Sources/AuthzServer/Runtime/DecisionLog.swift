import AuthzCore
import Logging

/// Writes decision records as `log.decisions` asks, at most `limit` per app per second on each
/// event loop; the rest are counted and reported in one record when the second is over, so a
/// flood cannot drown journald. Owned by one event loop: no locks.
struct DecisionLog {
    private struct Window {
        var second: Int64
        var written: Int
        var suppressed: Int
    }

    private var windows: [String: Window] = [:]

    mutating func record(_ decision: Decision, request: CheckRequest, settings: LogSettings, logger: Logger, now: Int64) {
        let app = request.app
        switch settings.decisions {
        case .none: return
        case .deny where decision.allow: return
        default: break
        }
        var w = windows[app] ?? Window(second: now, written: 0, suppressed: 0)
        if w.second != now {
            if w.suppressed > 0 {
                logger.warning("suppressed \(w.suppressed) decision records for app \(app) (over \(settings.decisionRateLimit)/s)",
                               metadata: ["authz_app": .string(app), "authz_suppressed": .stringConvertible(w.suppressed)])
            }
            w = Window(second: now, written: 0, suppressed: 0)
        }
        guard w.written < settings.decisionRateLimit else {
            w.suppressed += 1
            windows[app] = w
            return
        }
        w.written += 1
        windows[app] = w

        var metadata: Logger.Metadata = [
            "authz_app": .string(app),
            "authz_decision": .string(decision.allow ? "allow" : "deny"),
            "authz_reason": .string(decision.reason.code),
            "authz_status": .stringConvertible(decision.status),
        ]
        if let p = decision.plugin { metadata["authz_plugin"] = .string(p) }
        if let addr = request.remoteAddr { metadata["authz_remote_addr"] = .string(addr) }
        if let s = decision.subject { metadata["authz_subject"] = .string(s) }
        if let id = request.id {
            switch id {
            case .string(let s): metadata["authz_request_id"] = .string(s)
            case .number(let n): metadata["authz_request_id"] = .string(n.text)
            default: break
            }
        }
        let text = "\(decision.allow ? "allow" : "deny") app=\(app) reason=\(decision.reason.code) status=\(decision.status)"
        logger.log(level: decision.allow ? .info : .notice, "\(text)", metadata: metadata)
    }
}
