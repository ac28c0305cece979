import ArgumentParser
import AuthzCore
import AuthzServer
import AuthzSystemd
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The version printed by `authzd version`.
let authzdVersion = "0.1.0"

@main
struct AuthzdCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "authzd",
        abstract: "Authorization sidecar: answers \"may this request through?\" on a Unix socket.",
        subcommands: [Serve.self, CheckConfig.self, Token.self, Query.self, Version.self]
    )
}

struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "Main configuration file.")
    var config: String = "/etc/authzd/authzd.toml"
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the daemon.")

    @OptionGroup var options: ConfigOption

    func run() throws {
        let configuration: Configuration
        switch Daemon.preflight(configPath: options.config) {
        case .success(let c): configuration = c
        case .failure(let errors):
            for e in errors.errors { printError(e.description) }
            throw ExitCode(1)
        }
        AuthzLogging.bootstrap(target: configuration.log.target.rawValue, level: configuration.log.level)
        let logger = Logger(label: "authzd")
        let code = Daemon(configPath: options.config, logger: logger).run()
        if code != 0 { throw ExitCode(code) }
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the configuration: exit 0 if valid, else 1 with FILE:LINE: message lines on stderr.")

    @OptionGroup var options: ConfigOption

    func run() throws {
        switch Daemon.preflight(configPath: options.config) {
        case .success(let c):
            let steps = c.apps.values.reduce(0) { $0 + $1.steps.count }
            print("\(options.config): ok (\(c.apps.count) apps, \(steps) chain steps)")
        case .failure(let errors):
            for e in errors.errors { printError(e.description) }
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

func printError(_ s: String) {
    let bytes = Array((s + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
