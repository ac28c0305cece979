import AuthzCore
import AuthzFetch
import AuthzMetrics
import AuthzPlugins
import AuthzSystemd
import Dispatch
import Logging
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The authzd daemon: loads the configuration, listens on the Unix socket (or the one systemd
/// passes), answers until SIGTERM/SIGINT, reloads on SIGHUP, and reports to systemd.
public final class Daemon: @unchecked Sendable {
    let configPath: String
    let logger: Logger
    let notifier = SystemdNotifier()
    let shared: ServerShared
    let loader: ConfigLoader
    let fetcher = CurlFetcher(threads: 2)
    private var group: MultiThreadedEventLoopGroup?
    private var loops: [LoopState] = []
    private var serverChannel: Channel?
    private var socketFile: SocketFile?
    private let connectionEvents = ConnectionEvents()
    private let reloadLock = Mutex<Void>(())
    private let stopSignal = DispatchSemaphore(value: 0)
    private var signalSources: [DispatchSourceSignal] = []
    private let timerQueue = DispatchQueue(label: "authzd.timers")
    private var timers: [DispatchSourceTimer] = []
    private let currentConfiguration: Mutex<Configuration?> = Mutex(nil)
    /// The `[metrics] listen` listener, when configured (metrics; see Daemon+Metrics.swift).
    var metricsServer: MetricsServer?

    /// A daemon for the configuration at `configPath`; `version` labels `authzd_build_info`.
    public init(configPath: String, logger: Logger, version: String = "unknown") {
        self.configPath = configPath
        self.logger = logger
        let resources = SharedResources()
        self.shared = ServerShared(resources: resources, logger: logger, metrics: DaemonMetrics(version: version))
        self.loader = ConfigLoader(registry: BuiltinPlugins.registry, resources: resources,
                                   fetcher: fetcher, logger: logger)
    }

    /// Loads the configuration without serving (used before logging is bootstrapped).
    public static func preflight(configPath: String) -> Result<Configuration, ConfigErrors> {
        do {
            return .success(try ConfigLoader(registry: BuiltinPlugins.registry).load(path: configPath))
        } catch {
            return .failure(error)
        }
    }

    /// Serves until asked to stop. Returns the process exit code.
    public func run() -> Int32 {
        shared.resources.beginLoad()
        let configuration: Configuration
        do {
            configuration = try loader.load(path: configPath)
        } catch {
            for e in error.errors { logger.error("\(e.description)") }
            _ = notifier.status("configuration invalid: \(error.errors.first?.description ?? "")")
            return 1
        }
        shared.resources.commitLoad()
        currentConfiguration.withLock { $0 = configuration }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        self.group = group
        let runtime = Runtime(configuration: configuration, counters: shared.counters, generation: 1)
        var byLoop: [ObjectIdentifier: LoopState] = [:]
        for loop in group.makeIterator() {
            let state = LoopState(runtime: runtime, eventLoop: loop)
            loops.append(state)
            byLoop[ObjectIdentifier(loop)] = state
        }
        let loopStates = byLoop

        let server = configuration.server
        let shared = self.shared
        let logger = self.logger
        let events = connectionEvents
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 512)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                Self.initialize(channel: channel, loopStates: loopStates, shared: shared, events: events, logger: logger)
            }

        // Before the socket exists: once a client can reach us, SIGTERM must not be lost (it is
        // ignored between `signal(SIG_IGN)` and its dispatch source) nor kill us half started.
        installSignalHandlers()
        do {
            let fds = ListenFDs.take()
            if let fd = fds.first {
                do {
                    serverChannel = try bootstrap.withBoundSocket(fd).wait()
                } catch {
                    throw DaemonError("cannot listen on the socket passed by systemd (fd \(fd)): \(error)")
                }
                logger.info("listening on the socket passed by systemd (fd \(fd))")
            } else {
                let placed = try SocketFile.place(path: server.socket, mode: server.socketMode, group: server.socketGroup) { path in
                    try bootstrap.bind(unixDomainSocketPath: path).wait()
                }
                serverChannel = placed.channel
                socketFile = placed.file
                logger.info("listening on \(server.socket)")
            }
        } catch let error as DaemonError {
            logger.critical("\(error.description)")
            try? group.syncShutdownGracefully()
            return 1
        } catch {
            logger.critical("cannot listen: \(error)")
            try? group.syncShutdownGracefully()
            return 1
        }

        guard startMetricsListener(configuration.metrics) else {  // metrics
            _ = shutdown()
            return 1
        }
        waitForStartup()
        _ = notifier.ready(status: statusLine(decisionsPerSecond: 0, denyShare: 0))
        logger.notice("authzd ready: \(configuration.apps.count) apps from \(configPath)")
        startTimers()

        stopSignal.wait()
        return shutdown()
    }

    static func initialize(channel: Channel, loopStates: [ObjectIdentifier: LoopState], shared: ServerShared,
                           events: ConnectionEvents, logger: Logger) -> EventLoopFuture<Void> {
        guard let state = loopStates[ObjectIdentifier(channel.eventLoop)] else {
            return channel.close()
        }
        let settings = state.runtime.configuration.server
        let count = shared.connectionCount.wrappingAdd(1, ordering: .relaxed).newValue
        let id = ObjectIdentifier(channel)
        channel.closeFuture.whenComplete { _ in
            shared.connectionCount.subtract(1, ordering: .relaxed)
            _ = shared.channels.withLock { $0.removeValue(forKey: id) }
        }
        guard count <= settings.maxConnections else {
            events.record(.overLimit, logger: logger, level: .warning,
                          "refused a connection: max_connections (\(settings.maxConnections)) are open")
            return channel.close()
        }
        let addHandler: () -> EventLoopFuture<Void> = {
            shared.channels.withLock { $0[id] = channel }
            return channel.pipeline.addHandler(ConnectionHandler(loop: state, shared: shared, settings: settings, events: events))
        }
        guard !settings.allowedUIDs.isEmpty else { return addHandler() }
        return PeerCredentials.uid(of: channel).flatMap { uid in
            if let uid, settings.allowedUIDs.contains(uid) { return addHandler() }
            events.record(.peerNotAllowed, logger: logger, level: .warning,
                          "refused a connection from uid \(uid.map(String.init) ?? "unknown"): not in allowed_uids")
            return channel.close()
        }
    }

    /// Holds READY back until start-up work (first JWKS fetches) is done, at most as long as the
    /// slowest of them may take (their fetch_timeout); requests are already being answered.
    private func waitForStartup() {
        let waiting = shared.resources.all.compactMap { $0.resource as? any StartupWaiting }
        guard !waiting.isEmpty else { return }
        let group = DispatchGroup()
        for w in waiting {
            group.enter()
            w.whenStarted { group.leave() }
        }
        let limit = waiting.map(\.maxStartupWait).max() ?? 0
        if group.wait(timeout: .now() + limit) == .timedOut {
            logger.warning("some JWKS sources had no keys after \(limit) s; ready without them")
        }
    }

    // MARK: - Signals

    private func installSignalHandlers() {
        for sig in [SIGHUP, SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: timerQueue)
            source.setEventHandler { [weak self] in
                guard let self else { return }
                if sig == SIGHUP {
                    self.reload()
                } else {
                    self.logger.notice("received \(sig == SIGTERM ? "SIGTERM" : "SIGINT"); stopping")
                    self.stopSignal.signal()
                }
            }
            source.resume()
            signalSources.append(source)
        }
    }

    /// Loads the configuration again; applies it only when it is entirely valid.
    public func reload() {
        reloadLock.withLock { _ in
            _ = notifier.reloading()
            logger.notice("reloading \(configPath)")
            shared.resources.beginLoad()
            do {
                let configuration = try loader.load(path: configPath)
                let old = currentConfiguration.withLock { $0 }
                if let old, old.server.socket != configuration.server.socket, socketFile != nil {
                    logger.warning("server.socket changed; the new path takes effect after a restart")
                }
                if let old, old.metrics != configuration.metrics {  // metrics
                    logger.warning("metrics.listen changed; the new address takes effect after a restart")
                }
                let generation = shared.generation.wrappingAdd(1, ordering: .relaxed).newValue
                let runtime = Runtime(configuration: configuration, counters: shared.counters, generation: generation)
                for state in loops {
                    state.eventLoop.execute { state.runtime = runtime }
                }
                shared.resources.commitLoad()
                currentConfiguration.withLock { $0 = configuration }
                shared.lastReloadError.withLock { $0 = nil }
                logger.notice("reloaded: \(configuration.apps.count) apps, generation \(generation)")
                shared.metrics.recordReload(succeeded: true)  // metrics
                _ = notifier.ready(status: statusLine(decisionsPerSecond: 0, denyShare: 0))
            } catch let error as ConfigErrors {
                shared.resources.abortLoad()
                for e in error.errors { logger.error("reload failed: \(e.description)") }
                let first = error.errors.first?.description ?? "invalid configuration"
                shared.lastReloadError.withLock { $0 = first }
                shared.metrics.recordReload(succeeded: false)  // metrics
                _ = notifier.ready(status: "reload failed (\(first)); serving the previous configuration")
            } catch {
                shared.resources.abortLoad()
                logger.error("reload failed: \(error)")
                shared.metrics.recordReload(succeeded: false)  // metrics
            }
        }
    }

    // MARK: - Status and watchdog

    private var lastTotals = (allowed: 0, denied: 0)

    private func statusLine(decisionsPerSecond: Double, denyShare: Double) -> String {
        let apps = currentConfiguration.withLock { $0?.apps.count ?? 0 }
        var jwks: [String] = []
        for (_, r) in shared.resources.all {
            if let s = r as? any StatsReporting {
                let stale = s.stats["serving_stale"]?.boolValue == true
                let keys = s.stats["keys"]?.numberValue?.int64 ?? 0
                jwks.append(stale ? "stale" : (keys > 0 ? "ok" : "no keys"))
            }
        }
        var line = "\(apps) apps, \(Int(decisionsPerSecond)) decisions/s, \(Int(denyShare * 100))% denied"
        if !jwks.isEmpty { line += ", jwks: " + jwks.joined(separator: " ") }
        if let e = shared.lastReloadError.withLock({ $0 }) { line += "; last reload failed: \(e)" }
        return line
    }

    private func startTimers() {
        let period = 5.0
        let status = DispatchSource.makeTimerSource(queue: timerQueue)
        status.schedule(deadline: .now() + period, repeating: period)
        status.setEventHandler { [weak self] in
            guard let self else { return }
            let t = self.shared.counters.totals()
            let da = t.allowed - self.lastTotals.allowed, dd = t.denied - self.lastTotals.denied
            self.lastTotals = t
            let total = Double(da + dd)
            _ = self.notifier.status(self.statusLine(decisionsPerSecond: total / period,
                                                     denyShare: total > 0 ? Double(dd) / total : 0))
        }
        status.resume()
        timers.append(status)

        // Closed and refused connections: one summary line a minute at most (see ConnectionEvents).
        let minute = 60
        let summary = DispatchSource.makeTimerSource(queue: timerQueue)
        summary.schedule(deadline: .now() + .seconds(minute), repeating: .seconds(minute))
        summary.setEventHandler { [weak self] in
            guard let self, let settings = self.currentConfiguration.withLock({ $0?.server }) else { return }
            self.connectionEvents.summarize(settings: settings, seconds: minute, logger: self.logger)
        }
        summary.resume()
        timers.append(summary)

        if let interval = notifier.watchdogInterval {
            // WATCHDOG=1 only when every event loop ran a task in this period: a stuck loop
            // stops the pings and systemd restarts us.
            let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
            let watchdog = DispatchSource.makeTimerSource(queue: timerQueue)
            watchdog.schedule(deadline: .now(), repeating: seconds)
            let loops = self.loops
            watchdog.setEventHandler { [weak self] in
                guard let self else { return }
                let futures = loops.map { state in state.eventLoop.submit { () } }
                let all = EventLoopFuture.andAllSucceed(futures, on: loops[0].eventLoop)
                all.whenSuccess { _ = self.notifier.watchdog() }
            }
            watchdog.resume()
            timers.append(watchdog)
        }
    }

    // MARK: - Shutdown

    private func shutdown() -> Int32 {
        _ = notifier.stopping()
        for t in timers { t.cancel() }
        try? serverChannel?.close().wait()
        metricsServer?.stop()  // metrics
        let open = shared.channels.withLock { Array($0.values) }
        let closed = open.map { $0.closeFuture }
        for channel in open {
            channel.pipeline.fireUserInboundEventTriggered(DrainEvent())
        }
        if let group, !closed.isEmpty {
            let all = EventLoopFuture.andAllComplete(closed, on: group.next())
            let deadline = group.next().scheduleTask(in: .seconds(5)) {
                for c in open { c.close(promise: nil) }
            }
            try? all.wait()
            deadline.cancel()
        }
        shared.resources.shutdownAll()
        fetcher.shutdown()
        try? group?.syncShutdownGracefully()
        if let socketFile, !socketFile.removeIfStillOurs() {
            logger.notice("did not remove \(socketFile.path): it is gone or no longer this daemon's socket")
        }
        logger.notice("authzd stopped")
        return 0
    }
}

/// A daemon start-up failure.
struct DaemonError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
