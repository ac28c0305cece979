import ArgumentParser
import AuthzCore
import AuthzNginx
import Logging
import ServiceLifecycle

/// `authzd-nginx --upstream SOCKET_PATH --listen (unix:PATH | HOST:PORT)` (SPEC §2).
struct AuthzdNginx: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "authzd-nginx",
        abstract: "Answers nginx auth_request subrequests by asking authzd.",
        discussion: """
            Each subrequest becomes one check: app from X-Authz-App, remote_addr from X-Real-IP, \
            method from X-Original-Method, path from X-Original-URI, the other headers as headers. \
            The answer carries the decision's status, its headers and X-Authz-Reason. When authzd \
            cannot be reached or does not answer in time the answer is 503 (nginx fails closed). \
            A subrequest the shim can judge alone is answered without asking authzd: 400 for a \
            missing, repeated or malformed mapping header, 431 for a head or check line over \
            --max-line-bytes.
            """)

    @Option(help: "authzd's Unix socket.")
    var upstream: String

    @Option(help: ArgumentHelp("Where nginx connects.", valueName: "unix:PATH | HOST:PORT"))
    var listen: String

    @Option(name: .customLong("listen-mode"),
            help: ArgumentHelp("Mode of a unix: listen socket (octal).", valueName: "MODE"))
    var listenMode: String = "0660"

    @Option(name: .customLong("listen-group"),
            help: ArgumentHelp("Group of a unix: listen socket, e.g. www-data (default: the process's group).",
                               valueName: "GROUP"))
    var listenGroup: String?

    @Option(help: "Seconds to wait for an answer from authzd before answering 503.")
    var timeout: Double = 2

    @Option(help: "Persistent connections to authzd.")
    var connections: Int = 4

    @Option(name: .customLong("max-line-bytes"),
            help: ArgumentHelp("authzd's max_line_bytes; must be the same. A longer check line, or request head, is answered 431.",
                               valueName: "BYTES"))
    var maxLineBytes: Int = 65536

    @Option(name: .customLong("header-timeout"),
            help: ArgumentHelp("Seconds a connection has to send a complete request (head and any body).", valueName: "SECONDS"))
    var headerTimeout: Double = 10

    @Option(name: .customLong("idle-timeout"),
            help: ArgumentHelp("Seconds a keep-alive connection may stay idle (keep above nginx's keepalive_timeout, 60 s).",
                               valueName: "SECONDS"))
    var idleTimeout: Double = 75

    @Option(name: .customLong("max-connections"),
            help: ArgumentHelp("Connections from nginx open at once; more are closed at once.", valueName: "N"))
    var maxConnections: Int = 4096

    @Option(name: .customLong("upstream-ping-interval"),
            help: ArgumentHelp("Seconds between pings on an idle connection to authzd (keep well under its idle_timeout).",
                               valueName: "SECONDS"))
    var upstreamPingInterval: Double = 60

    @Option(name: .customLong("metrics-listen"),
            help: ArgumentHelp("Serve GET /metrics (Prometheus) and GET /healthz (200 when authzd answers a ping, else 503) here.",
                               valueName: "HOST:PORT | unix:PATH"))
    var metricsListen: String?

    @Option(help: ArgumentHelp("Log level.", valueName: NginxShim.logLevels.joined(separator: "|")))
    var logLevel: String = "info"

    func validate() throws {
        do {
            _ = try ListenAddress(parsing: listen)
        } catch {
            throw ValidationError("--listen: \(error)")
        }
        for (flag, seconds) in [("--timeout", timeout), ("--header-timeout", headerTimeout), ("--idle-timeout", idleTimeout),
                                ("--upstream-ping-interval", upstreamPingInterval)] {
            guard seconds > 0, seconds <= 86400 else {
                throw ValidationError("\(flag) must be a number of seconds above 0 and at most 86400")
            }
        }
        guard (256...(16 << 20)).contains(maxLineBytes) else {
            throw ValidationError("--max-line-bytes must be between 256 and 16777216, as authzd's max_line_bytes")
        }
        guard (1...1_000_000).contains(maxConnections) else {
            throw ValidationError("--max-connections must be between 1 and 1000000")
        }
        guard (1...256).contains(connections) else { throw ValidationError("--connections must be between 1 and 256") }
        guard NginxShim.logLevels.contains(logLevel) else {
            throw ValidationError("--log-level must be one of \(NginxShim.logLevels.joined(separator: ", "))")
        }
        if let metricsListen {
            do {
                guard try MetricsListenAddress.parse(metricsListen) != nil else {
                    throw ValidationError("--metrics-listen needs HOST:PORT or unix:PATH")
                }
            } catch let error as MetricsListenAddress.ParseError {
                throw ValidationError("--metrics-listen: \(error)")
            }
        }
        guard !upstream.isEmpty else { throw ValidationError("--upstream needs a socket path") }
        if let listenGroup, listenGroup.isEmpty { throw ValidationError("--listen-group needs a group name") }
        guard let mode = UInt32(listenMode, radix: 8), mode <= 0o777 else {
            throw ValidationError("--listen-mode must be an octal mode such as 0660")
        }
    }

    func run() async throws {
        var configuration = NginxShim.Configuration(
            upstreamSocketPath: upstream, listen: try ListenAddress(parsing: listen),
            timeout: Self.duration(timeout), connections: connections,
            listenMode: UInt32(listenMode, radix: 8) ?? 0o660, listenGroup: listenGroup,
            maxLineBytes: maxLineBytes, headerTimeout: Self.duration(headerTimeout), idleTimeout: Self.duration(idleTimeout),
            maxConnections: maxConnections, upstreamPingInterval: Self.duration(upstreamPingInterval))
        configuration.metricsListen = try metricsListen.flatMap { try MetricsListenAddress.parse($0) }
        // Logs to stderr (swift-log's default handler).
        var logger = Logger(label: "authzd-nginx")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [NginxShimService(configuration: configuration, logger: logger)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}

extension AuthzdNginx {
    /// Seconds from the command line (already checked to be in 0 < s <= 86400).
    static func duration(_ seconds: Double) -> Duration {
        .nanoseconds(Int64(seconds * 1e9))
    }
}

// Parsed and run by hand: in top-level code `AuthzdNginx.main()` resolves to the synchronous
// overload, which refuses to run an async command.
do {
    let command = try AuthzdNginx.parse()
    try await command.run()
} catch {
    AuthzdNginx.exit(withError: error)
}
