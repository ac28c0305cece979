import AuthzCore
import Logging
import Synchronization

/// The configuration in force, and how a reload replaces it: the new one is applied only when it
/// is valid as a whole; otherwise the old one keeps serving and the failure is kept for `STATUS=`
/// and `stats` until a reload succeeds.
final class ConfigurationStore: Sendable {
    /// What a reload did.
    enum ReloadOutcome: Equatable, Sendable {
        /// The new configuration serves under `generation`.
        case applied(generation: Int, apps: Int)
        /// Nothing changed; `firstError` is the first of the load's errors (`FILE:LINE: message`).
        case failed(firstError: String)
    }

    /// The main configuration file, read again at every reload.
    let path: String
    private let loader: ConfigLoader
    private let shared: ServerShared
    private let loops: [LoopState]
    private let logger: Logger
    private let current: Mutex<Configuration>
    /// The socket path this daemon placed itself (nil while it has none, or serves one systemd
    /// passed): a reload cannot move it, so a new path gets a warning.
    private let placedSocket = Mutex<String?>(nil)
    /// One reload at a time: each begins and ends a load of the shared resources.
    private let reloading = Mutex<Void>(())

    /// A store serving `initial` (loaded by `loader` already, as generation 1) on `loops`.
    init(path: String, initial: Configuration, loader: ConfigLoader, shared: ServerShared, loops: [LoopState],
         logger: Logger) {
        self.path = path
        self.loader = loader
        self.shared = shared
        self.loops = loops
        self.logger = logger
        self.current = Mutex(initial)
    }

    /// The configuration in force.
    var configuration: Configuration { current.withLock { $0 } }

    /// Records that the daemon placed its socket at `path` itself.
    func socketPlaced(at path: String) {
        placedSocket.withLock { $0 = path }
    }

    /// Loads the main file and the apps again and, when all of it is valid, makes every event
    /// loop decide with it from its next task on.
    func reload() -> ReloadOutcome {
        reloading.withLock { _ in
            logger.notice("reloading \(path)")
            shared.resources.beginLoad()
            let configuration: Configuration
            do throws(ConfigErrors) {
                configuration = try loader.load(path: path)
            } catch {
                shared.resources.abortLoad()
                for e in error.errors { logger.error("reload failed: \(e.description)") }
                let first = error.errors.first?.description ?? "invalid configuration"
                shared.lastReloadError.withLock { $0 = first }
                shared.metrics.recordReload(succeeded: false)
                return .failed(firstError: first)
            }
            if let placed = placedSocket.withLock({ $0 }), placed != configuration.server.socket {
                logger.warning("server.socket changed; the new path takes effect after a restart")
            }
            if current.withLock({ $0.metrics }) != configuration.metrics {
                logger.warning("metrics.listen changed; the new address takes effect after a restart")
            }
            let generation = shared.generation.wrappingAdd(1, ordering: .relaxed).newValue
            let runtime = Runtime(configuration: configuration, counters: shared.counters, generation: generation)
            for state in loops {
                state.eventLoop.execute { state.runtime = runtime }
            }
            shared.resources.commitLoad()
            current.withLock { $0 = configuration }
            shared.lastReloadError.withLock { $0 = nil }
            logger.notice("reloaded: \(configuration.apps.count) apps, generation \(generation)")
            shared.metrics.recordReload(succeeded: true)
            return .applied(generation: generation, apps: configuration.apps.count)
        }
    }
}
