import AuthzCore
import AuthzMetrics
import AuthzSystemd
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// The authzd daemon, as one swift-service-lifecycle `ServiceGroup`: the socket server, the
/// SIGHUP reloader and the systemd reporter, with whatever services the executable adds.
///
/// The executable chooses the plugins and the fetcher, creates the daemon (which loads the
/// configuration, once), sets up logging as that configuration says, and calls ``run(logger:services:)``.
/// SIGTERM and SIGINT shut the group down gracefully: `STOPPING=1`, the socket stops accepting,
/// connections answer the lines they have read, and `run` returns 0.
public final class Daemon: Sendable {
    /// The main configuration file, read again at every SIGHUP.
    public let configPath: String
    /// The configuration loaded by `init`, which the daemon starts with.
    public let configuration: Configuration
    private let registry: PluginRegistry
    private let fetcher: any HTTPFetcher
    private let resources: SharedResources
    /// Where what the first load created logs, once `run` knows.
    private let startupLog: DeferredLogHandler.Target
    /// The Prometheus registry and handles the daemon records into (`authzd_build_info` carries
    /// the version given to `init`).
    public let metrics: DaemonMetrics

    /// Loads the configuration at `configPath` with the plugins of `registry`; `fetcher` fetches
    /// for remote sources (JWKS), whose first fetches start now. Throws every error the
    /// configuration has, and then leaves nothing running.
    public init(configPath: String, registry: PluginRegistry, fetcher: any HTTPFetcher,
                version: String = "unknown") throws(ConfigErrors) {
        let resources = SharedResources()
        let startupLog = DeferredLogHandler.Target()
        let loader = ConfigLoader(registry: registry, resources: resources, fetcher: fetcher,
                                  logger: Logger(label: "authzd") { DeferredLogHandler(label: $0, target: startupLog) })
        resources.beginLoad()
        do {
            configuration = try loader.load(path: configPath)
        } catch {
            resources.abortLoad()
            throw error
        }
        resources.commitLoad()
        self.configPath = configPath
        self.registry = registry
        self.fetcher = fetcher
        self.resources = resources
        self.startupLog = startupLog
        self.metrics = DaemonMetrics(version: version)
    }

    /// Serves until SIGTERM or SIGINT, then returns the process exit code: 0 after a graceful
    /// shutdown, 1 when the daemon could not start (the reason is logged).
    ///
    /// - Parameters:
    ///   - logger: where the daemon logs; made after logging was set up as the configuration says.
    ///   - services: more services to run in the same group (a fetch pool). They start with the
    ///     daemon's and are shut down after the socket server has drained, in reverse order.
    public func run(logger: Logger, services: [any Service] = []) async -> Int32 {
        startupLog.bind(to: logger.handler)
        let shared = ServerShared(resources: resources, logger: logger, metrics: metrics)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let runtime = Runtime(configuration: configuration, counters: shared.counters, generation: 1)
        let loops = group.makeIterator().map { LoopState(runtime: runtime, eventLoop: $0) }
        let reloadLoader = ConfigLoader(registry: registry, resources: resources, fetcher: fetcher, logger: logger)
        let store = ConfigurationStore(path: configPath, initial: configuration, loader: reloadLoader, shared: shared,
                                       loops: loops, logger: logger)
        let notifier = SystemdNotifier()
        let ready = OnceEvent()

        // Trapped before the socket exists: once a client can reach the daemon, a SIGHUP must
        // not kill it. (The group traps SIGTERM and SIGINT before any service starts.)
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let server = SocketServerService(group: group, loops: loops, shared: shared, store: store,
                                         events: ConnectionEvents(), ready: ready, logger: logger)
        let reloader = ConfigReloaderService(signals: hangups, store: store, shared: shared, ready: ready,
                                             notifier: notifier)
        let reporter = SystemdReporterService(notifier: notifier, ready: ready, store: store, shared: shared,
                                              loops: loops, logger: logger)
        // Graceful shutdown runs from the last service to the first: the reporter says
        // STOPPING=1, reloads end, the server drains, then the added services stop.
        let serviceGroup = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: (services + metricsListener(shared: shared, logger: logger) + [server, reloader, reporter]).map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))

        var code: Int32 = 0
        do {
            try await serviceGroup.run()
        } catch let error as DaemonError {
            logger.critical("\(error.description)")
            code = 1
        } catch {
            logger.critical("authzd failed: \(error)")
            code = 1
        }
        resources.shutdownAll()
        try? await group.shutdownGracefully()
        if code == 0 { logger.notice("authzd stopped") }
        return code
    }
}

/// A daemon start-up failure.
struct DaemonError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
