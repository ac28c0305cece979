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
        let group = makeEventLoopGroup(connections: configuration.connections)
        let shim: NginxShim
        do {
            shim = try await start(configuration: configuration, group: group, logger: logger)
        } catch {
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
        await shim.pool.shutdown()
        for s in sources { s.cancel() }
        if case .unix(let path) = configuration.listen { unlink(path) }
        try? await group.shutdownGracefully()
    }
}
