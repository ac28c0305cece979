import AuthzMetrics
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// The shim as a swift-service-lifecycle service: binds and serves until the group shuts down
/// gracefully (SIGTERM, SIGINT), then stops accepting, closes the connections to authzd,
/// removes its Unix socket and stops its event loops.
public struct NginxShimService: Service {
    /// What the command line set.
    public let configuration: NginxShim.Configuration
    /// Where the shim logs (stderr in `authzd-nginx`).
    public let logger: Logger

    /// A service serving `configuration`, logging to `logger`.
    public init(configuration: NginxShim.Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        Self.raiseFileLimit(for: configuration, logger: logger)
        let group = NginxShim.makeEventLoopGroup(connections: configuration.connections)
        let metrics = ShimMetrics()
        metrics.bootstrapMetricsSystem()
        let shim: NginxShim
        do {
            shim = try await NginxShim.start(configuration: configuration, group: group, logger: logger, metrics: metrics)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        // /metrics and /healthz on --metrics-listen (see NginxShim+Metrics.swift).
        let metricsServer: MetricsServer?
        do {
            metricsServer = try await shim.startMetricsListener(configuration.metricsListen, metrics: metrics, logger: logger)
        } catch {
            await shim.stop()
            try? await group.shutdownGracefully()
            throw error
        }
        // Serves until the listener closes: on graceful shutdown, or should it fail on its own.
        let logger = self.logger
        await withGracefulShutdownHandler {
            await shim.waitUntilClosed()
        } onGracefulShutdown: {
            logger.info("stopping")
            shim.stopAccepting()
        }
        await metricsServer?.stop()
        await shim.stop()
        if case .unix(let path) = configuration.listen { unlink(path) }
        try? await group.shutdownGracefully()
    }

    /// Raises the soft limit on open files so that `--max-connections` is reached before the
    /// descriptors run out (the common soft default is 1024, below the default cap). The hard
    /// limit is the operator's (`LimitNOFILE=`); when it is too low, say so.
    static func raiseFileLimit(for configuration: NginxShim.Configuration, logger: Logger) {
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
