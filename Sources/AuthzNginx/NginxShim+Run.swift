import AuthzMetrics
import Dispatch
import Logging
import NIOCore
import NIOPosix

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

extension NginxShim {
    /// Log levels `run` accepts, lowest first.
    public static let logLevels: [String] = Logger.Level.allCases.map(\.rawValue)

    /// Runs the shim as a process does: serves until SIGTERM or SIGINT, then stops accepting,
    /// closes the upstream connections and returns. Logs to stderr (swift-log's default handler).
    public static func run(configuration: Configuration, logLevel: String = "info") async throws {
        var logger = Logger(label: "authzd-nginx")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        raiseFileLimit(for: configuration, logger: logger)
        let group = makeEventLoopGroup(connections: configuration.connections)
        let shim: NginxShim
        let metrics = ShimMetrics()  // metrics
        metrics.bootstrapMetricsSystem()
        do {
            shim = try await start(configuration: configuration, group: group, logger: logger, metrics: metrics)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        // metrics: /metrics and /healthz on --metrics-listen (see NginxShim+Metrics.swift).
        let metricsServer: MetricsServer?
        do {
            metricsServer = try await shim.startMetricsListener(configuration.metricsListen, metrics: metrics, logger: logger)
        } catch {
            await shim.stop()
            try? await group.shutdownGracefully()
            throw error
        }
        // The default action of SIGTERM would kill the process mid-answer; handle it instead.
        let stopping = DispatchQueue(label: "authzd-nginx.signals")
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: stopping)
            source.setEventHandler {
                logger.info("stopping", metadata: ["signal": "\(sig)"])
                Task { await shim.stop() }
            }
            source.resume()
            sources.append(source)
        }
        await shim.waitUntilClosed()
        await metricsServer?.stop()  // metrics
        await shim.pool.shutdown()
        for s in sources { s.cancel() }
        if case .unix(let path) = configuration.listen { unlink(path) }
        try? await group.shutdownGracefully()
    }

    /// Raises the soft limit on open files so that `--max-connections` is reached before the
    /// descriptors run out (the common soft default is 1024, below the default cap). The hard
    /// limit is the operator's (`LimitNOFILE=`); when it is too low, say so.
    static func raiseFileLimit(for configuration: Configuration, logger: Logger) {
        // Every nginx connection is one descriptor; add the upstream pool, the listener, the
        // event loops' own descriptors and some room.
        let needed = rlim_t(configuration.maxConnections + configuration.connections + 256)
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        if limit.rlim_cur < needed && limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = min(needed, limit.rlim_max)
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        if limit.rlim_cur < needed {
            logger.warning(
                "the open files limit is below --max-connections; connections will fail before the cap",
                metadata: ["limit": "\(limit.rlim_cur)", "max_connections": "\(configuration.maxConnections)"])
        }
    }
}
