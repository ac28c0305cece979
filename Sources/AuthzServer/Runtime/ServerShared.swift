import AuthzCore
import AuthzJSON
import AuthzMetrics
import Logging
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What every connection shares: counters, long-lived resources, the live connection set.
final class ServerShared: Sendable {
    let counters: CounterRegistry
    /// The Prometheus registry and handles (metrics).
    let metrics: DaemonMetrics
    let resources: SharedResources
    let logger: Logger
    let startTime: Int64
    let connectionCount = Atomic<Int>(0)
    let channels = Mutex<[ObjectIdentifier: any Channel]>([:])
    let generation = Atomic<Int>(1)
    let lastReloadError = Mutex<String?>(nil)

    init(resources: SharedResources, logger: Logger, metrics: DaemonMetrics = DaemonMetrics(version: "unknown")) {
        self.metrics = metrics
        self.counters = CounterRegistry(metrics: metrics)
        self.resources = resources
        self.logger = logger
        self.startTime = Int64(time(nil))
    }

    /// The `stats` payload: uptime, per-app counts and each remote source's state.
    func stats(runtime: Runtime) -> JSONValue {
        var apps = JSONObject()
        for name in runtime.apps.keys.sorted() {
            let c = runtime.apps[name]!.counters
            apps[name] = .object(JSONObject([
                ("allowed", .number(JSONNumber(c.allowed.load(ordering: .relaxed)))),
                ("denied", .number(JSONNumber(c.denied.load(ordering: .relaxed)))),
            ]))
        }
        let sources = resources.all.compactMap { ($0.resource as? any SourceReporting)?.report }
        var o = JSONObject()
        o["uptime_seconds"] = .number(JSONNumber(Int(Int64(time(nil)) - startTime)))
        o["config_generation"] = .number(JSONNumber(runtime.generation))
        o["connections"] = .number(JSONNumber(connectionCount.load(ordering: .relaxed)))
        o["apps"] = .object(apps)
        o["unknown_app_denied"] = .number(JSONNumber(counters.unknownApp.denied.load(ordering: .relaxed)))
        o["bad_requests"] = .number(JSONNumber(counters.badRequests.load(ordering: .relaxed)))
        o["jwks"] = .array(sources.filter { $0.kind == "jwks" }.map(\.details))  // SPEC §3, kept as it was
        o["sources"] = .array(sources.map(\.json))
        if let e = lastReloadError.withLock({ $0 }) { o["last_reload_error"] = .string(e) }
        return .object(o)
    }
}
