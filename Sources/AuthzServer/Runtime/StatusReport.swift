import AuthzCore
import AuthzJSON

/// The `STATUS=` line `systemctl status` shows: apps, decisions per second, the share denied,
/// each JWKS source's state, and the last reload's failure while it stands.
struct StatusReport: Equatable {
    var apps: Int
    var decisionsPerSecond: Double
    var denyShare: Double
    /// One word per JWKS source, in key order: `ok`, `stale` or `no keys`.
    var jwks: [String]
    /// The first error of the last reload, until a reload succeeds.
    var lastReloadError: String?

    /// The line itself.
    var text: String {
        var line = "\(apps) apps, \(Int(decisionsPerSecond)) decisions/s, \(Int(denyShare * 100))% denied"
        if !jwks.isEmpty { line += ", jwks: " + jwks.joined(separator: " ") }
        if let lastReloadError { line += "; last reload failed: \(lastReloadError)" }
        return line
    }

    /// What a failed reload reports at once (with its `READY=1`).
    static func reloadFailed(_ firstError: String) -> String {
        "reload failed (\(firstError)); serving the previous configuration"
    }

    /// How one JWKS source reads in the line, from its `stats`.
    static func jwksState(_ stats: JSONValue) -> String {
        if stats["serving_stale"]?.boolValue == true { return "stale" }
        return (stats["keys"]?.numberValue?.int64 ?? 0) > 0 ? "ok" : "no keys"
    }

    /// The report for the daemon as it is now.
    init(apps: Int, rate: DecisionRate.Sample, shared: ServerShared) {
        var jwks: [String] = []
        for (_, resource) in shared.resources.all {
            if let s = resource as? any StatsReporting { jwks.append(Self.jwksState(s.stats)) }
        }
        self.init(apps: apps, decisionsPerSecond: rate.perSecond, denyShare: rate.denyShare, jwks: jwks,
                  lastReloadError: shared.lastReloadError.withLock { $0 })
    }

    init(apps: Int, decisionsPerSecond: Double, denyShare: Double, jwks: [String], lastReloadError: String?) {
        self.apps = apps
        self.decisionsPerSecond = decisionsPerSecond
        self.denyShare = denyShare
        self.jwks = jwks
        self.lastReloadError = lastReloadError
    }
}
