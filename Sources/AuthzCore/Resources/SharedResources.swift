import Synchronization
import AuthzJSON

/// A long-lived object shared by plugins across apps and reloads (a remote source such as a JWKS
/// cache for one URL).
public protocol SharedResource: AnyObject, Sendable {
    /// Called once when no configuration uses the resource any more.
    func shutdown()
}

/// Resources by key, kept across configuration reloads. A load records which keys it used; when
/// the new configuration is applied, resources it did not use are shut down; when the load
/// fails, what it created is shut down and the old configuration's resources stay as they were.
public final class SharedResources: Sendable {
    private struct State {
        var resources: [String: any SharedResource] = [:]
        var touched: Set<String> = []
        /// Made by the load under way.
        var created: Set<String> = []
    }

    private let state = Mutex(State())

    public init() {}

    /// The resource under `key`, made by `make` the first time.
    public func resource<R: SharedResource>(_ key: String, as type: R.Type = R.self,
                                            make: () throws(ConfigError) -> R) throws(ConfigError) -> R {
        let existing: R? = state.withLock { s in
            s.touched.insert(key)
            return s.resources[key] as? R
        }
        if let existing { return existing }
        let made = try make()
        return state.withLock { s in
            if let raced = s.resources[key] as? R { return raced }
            s.resources[key] = made
            s.created.insert(key)
            return made
        }
    }

    /// Starts recording which resources a load uses.
    public func beginLoad() {
        state.withLock {
            $0.touched = []
            $0.created = []
        }
    }

    /// After a load failed: shuts down and forgets what it created (a failed reload leaves no
    /// fetching cache behind); what the running configuration uses is untouched.
    public func abortLoad() {
        let dropped: [any SharedResource] = state.withLock { s in
            let made = s.resources.filter { s.created.contains($0.key) }
            for k in made.keys { s.resources.removeValue(forKey: k) }
            s.created = []
            s.touched = []
            return Array(made.values)
        }
        for r in dropped { r.shutdown() }
    }

    /// After a successful load has been applied: shuts down what it did not use.
    public func commitLoad() {
        let dropped: [any SharedResource] = state.withLock { s in
            let gone = s.resources.filter { !s.touched.contains($0.key) }
            for k in gone.keys { s.resources.removeValue(forKey: k) }
            s.created = []
            return Array(gone.values)
        }
        for r in dropped { r.shutdown() }
    }

    /// Every resource now held.
    public var all: [(key: String, resource: any SharedResource)] {
        state.withLock { s in s.resources.map { (key: $0.key, resource: $0.value) }.sorted { $0.key < $1.key } }
    }

    /// Shuts down everything (daemon exit).
    public func shutdownAll() {
        let all = state.withLock { s in
            let v = Array(s.resources.values)
            s.resources = [:]
            return v
        }
        for r in all { r.shutdown() }
    }
}

/// A shared resource with start-up work worth finishing before the daemon reports READY (a remote
/// source's first fetch), so the first requests need not wait for it.
public protocol StartupWaiting: SharedResource {
    /// Calls back once, on any thread, when the start-up work has finished or failed (at once
    /// when there is none). The daemon waits at most `maxStartupWait` seconds whatever happens.
    func whenStarted(_ callback: @escaping @Sendable () -> Void)
    var maxStartupWait: Double { get }
}
