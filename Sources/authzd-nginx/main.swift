import ArgumentParser
import AuthzNginx

/// `authzd-nginx --upstream SOCKET_PATH --listen (unix:PATH | HOST:PORT)` (SPEC §2).
struct AuthzdNginx: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "authzd-nginx",
        abstract: "Answers nginx auth_request subrequests by asking authzd.",
        discussion: """
            Each subrequest becomes one check: app from X-Authz-App, remote_addr from X-Real-IP, \
            method from X-Original-Method, path from X-Original-URI, the other headers as headers. \
            The answer carries the decision's status, its headers and X-Authz-Reason. When authzd \
            cannot be reached or does not answer in time the answer is 503 (nginx fails closed).
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

    @Option(help: ArgumentHelp("Log level.", valueName: NginxShim.logLevels.joined(separator: "|")))
    var logLevel: String = "info"

    func validate() throws {
        do {
            _ = try ListenAddress(parsing: listen)
        } catch {
            throw ValidationError("--listen: \(error)")
        }
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be a positive number of seconds") }
        guard (1...256).contains(connections) else { throw ValidationError("--connections must be between 1 and 256") }
        guard NginxShim.logLevels.contains(logLevel) else {
            throw ValidationError("--log-level must be one of \(NginxShim.logLevels.joined(separator: ", "))")
        }
        guard !upstream.isEmpty else { throw ValidationError("--upstream needs a socket path") }
        if let listenGroup, listenGroup.isEmpty { throw ValidationError("--listen-group needs a group name") }
        guard let mode = UInt32(listenMode, radix: 8), mode <= 0o777 else {
            throw ValidationError("--listen-mode must be an octal mode such as 0660")
        }
    }

    func run() async throws {
        let configuration = NginxShim.Configuration(
            upstreamSocketPath: upstream, listen: try ListenAddress(parsing: listen),
            timeout: .nanoseconds(Int64(timeout * 1e9)), connections: connections,
            listenMode: UInt32(listenMode, radix: 8) ?? 0o660, listenGroup: listenGroup)
        try await NginxShim.run(configuration: configuration, logLevel: logLevel)
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
