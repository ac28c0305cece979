import AuthzCore
import AuthzText
import Logging

/// Writes decision records as `log.decisions` asks, at most `decision_rate_limit` per app per
/// second for the whole daemon; the rest are counted and reported in one record when a later
/// second opens, so a flood cannot drown journald.
///
/// It keeps nothing keyed by what a client sends: a configured app uses its own budget, and
/// every name the configuration does not define shares one (reported as `_unknown`), so a
/// stream of made-up app names costs no memory and is limited like one app.
///
/// A record's message interpolates the app name with ``LogText/field(_:)``: an app called
/// `x reason=ok status=200` or one holding a line feed reads as one quoted, escaped value, never
/// as other fields or a second record. The `authz_*` metadata carries the exact values; the
/// journal keeps them as they are and the stderr handler escapes them.
struct DecisionLog {
    let runtime: Runtime

    func record(_ decision: Decision, request: CheckRequest, settings: LogSettings, logger: Logger, now: Int64) {
        switch settings.decisions {
        case .none: return
        case .deny where decision.allow: return
        default: break
        }
        let app = request.app
        // An unknown app's denial says so; anything else came from a configured app (unless a
        // reload removed it meanwhile, when it shares the unknown budget).
        let configured = decision.reason == .unknownApp ? nil : runtime.apps[app]
        let counters = configured?.counters ?? runtime.unknownApp
        switch counters.records.admit(now: now, limit: settings.decisionRateLimit) {
        case .suppress:
            return
        case .write(let suppressed):
            if suppressed > 0 {
                let bucket = configured == nil ? CounterRegistry.unknownAppName : app
                logger.warning("suppressed \(suppressed) decision records for app \(LogText.field(bucket)) (over \(settings.decisionRateLimit)/s)",
                               metadata: ["authz_app": .string(bucket), "authz_suppressed": .stringConvertible(suppressed)])
            }
        }

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
        let text = "\(decision.allow ? "allow" : "deny") app=\(LogText.field(app)) reason=\(decision.reason.code) status=\(decision.status)"
        logger.log(level: decision.allow ? .info : .notice, "\(text)", metadata: metadata)
    }
}
