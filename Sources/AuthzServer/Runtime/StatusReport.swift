import AuthzCore
import AuthzJSON

/// The `STATUS=` line `systemctl status` shows: apps, decisions per second, the share denied,
/// each remote source's state grouped by kind, and the last reload's failure while it stands.
struct StatusReport {
    var apps: Int
    var decisionsPerSecond: Double
    var denyShare: Double
    /// The remote sources (key sets, discovery documents), whatever their kind.
    var sources: [SourceReport]
    /// The first error of the last reload, until a reload succeeds.
    var lastReloadError: String?

    /// The line itself.
    var text: String {
        var line = "\(apps) apps, \(Int(decisionsPerSecond)) decisions/s, \(Int(denyShare * 100))% denied"
        if let summary = SourceReport.statusSummary(sources) { line += ", " + summary }
        if let lastReloadError { line += "; last reload failed: \(lastReloadError)" }
        return line
    }

    /// What a failed reload reports at once (with its `READY=1`).
    static func reloadFailed(_ firstError: String) -> String {
        "reload failed (\(firstError)); serving the previous configuration"
    }

    /// The report for the daemon as it is now.
    init(apps: Int, rate: DecisionRate.Sample, shared: ServerShared) {
        let sources = shared.resources.all.compactMap { ($0.resource as? any SourceReporting)?.report }
        self.init(apps: apps, decisionsPerSecond: rate.perSecond, denyShare: rate.denyShare, sources: sources,
                  lastReloadError: shared.lastReloadError.withLock { $0 })
    }

    init(apps: Int, decisionsPerSecond: Double, denyShare: Double, sources: [SourceReport], lastReloadError: String?) {
        self.apps = apps
        self.decisionsPerSecond = decisionsPerSecond
        self.denyShare = denyShare
        self.sources = sources
        self.lastReloadError = lastReloadError
    }
}
