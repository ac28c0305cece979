import ArgumentParser
import AuthzCore
import AuthzFetch
import AuthzPlugins
import AuthzServer
import AuthzSystemd
import AuthzText
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// The version printed by `authzd version` and `authzd --version`.
let authzdVersion = "0.1.0"

@main
struct AuthzdCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "authzd",
        abstract: "Authorization sidecar: answers \"may this request through?\" on a Unix socket.",
        version: "authzd \(authzdVersion)",
        subcommands: [Serve.self, CheckConfig.self, Token.self, Query.self, Stats.self, Ping.self, Import.self, Version.self]
    )

    /// ArgumentParser's own entry point, except that a command line it cannot parse (an unknown
    /// option, a missing or malformed value) gets one plain sentence and exit 64 instead of a
    /// usage dump; `--help` and `--version` print as usual.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure, !(error is ExitCode) {
                let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "bad arguments"
                printError("authzd: \(LogText.escaped(message)) (see \(helpCommand(fullMessage(for: error))))")
                Glibc.exit(ExitStatus.usage)
            }
            exit(withError: error)
        }
    }
}

struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "Main configuration file.")
    var config: String = "/etc/authzd/authzd.toml"
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the daemon.")

    @OptionGroup var options: ConfigOption

    /// Composes the daemon: the built-in plugins, libcurl for remote sources (stopped once the
    /// socket server has drained), and the configuration's logging.
    func run() async throws {
        let fetcher = CurlFetcher(threads: 2)
        let daemon: Daemon
        do {
            daemon = try Daemon(configPath: options.config, registry: BuiltinPlugins.registry, fetcher: fetcher,
                                version: authzdVersion)
        } catch {
            fetcher.shutdown()
            printConfigErrors(error)
            throw ExitCode(1)
        }
        AuthzLogging.bootstrap(target: daemon.configuration.log.target.rawValue, level: daemon.configuration.log.level)
        daemon.metrics.bootstrapMetricsSystem()
        let fetching = ClosureService {
            try? await gracefulShutdown()
            fetcher.shutdown()
        }
        let code = await daemon.run(logger: Logger(label: "authzd"), services: [fetching])
        if code != 0 { throw ExitCode(code) }
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration: exit 0 if valid, else 1 with FILE:LINE: message lines on stderr.")

    @OptionGroup var options: ConfigOption

    func run() throws {
        switch Result(catching: { () throws(ConfigErrors) in try ConfigLoader(registry: BuiltinPlugins.registry).load(path: options.config) }) {
        case .success(let c):
            let steps = c.apps.values.reduce(0) { $0 + $1.steps.count }
            print("\(LogText.escaped(options.config)): ok (\(c.apps.count) apps, \(steps) chain steps)")
        case .failure(let errors):
            printConfigErrors(errors)
            throw ExitCode(1)
        }
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version.")

    func run() {
        print("authzd \(authzdVersion)")
    }
}

/// The `authzd SUBCOMMAND --help` that ArgumentParser's usage text points to, so the one-line
/// message can point there too.
func helpCommand(_ usage: String) -> String {
    guard let start = usage.range(of: "See '"),
          let end = usage[start.upperBound...].firstIndex(of: "'") else { return "authzd --help" }
    return LogText.escaped(String(usage[start.upperBound..<end]))
}

/// Every configuration error as `FILE:LINE: message` (escaped, one line each, in file and line
/// order), then how many there are, so a long list still ends with its size.
func printConfigErrors(_ errors: ConfigErrors) {
    for e in errors.errors { printError(e.description) }
    let files = Set(errors.errors.map(\.file)).count
    let count = errors.errors.count
    printError("\(count) configuration error\(count == 1 ? "" : "s") in \(files) file\(files == 1 ? "" : "s")")
}

/// Prints `authzd COMMAND: message` on stderr and returns the exit code to throw: a command-line
/// failure is one plain sentence, never a usage dump or a Swift error description.
func failure(_ command: String, _ message: String, exitCode: Int32) -> ExitCode {
    printError("authzd \(command): \(message)")
    return ExitCode(exitCode)
}

/// Exit codes besides 0 and 1 (sysexits.h): bad arguments, and a file that cannot be read.
enum ExitStatus {
    static let usage: Int32 = 64
    static let noInput: Int32 = 66
}

func printError(_ s: String) {
    let bytes = Array((s + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
