import ArgumentParser
import AuthzJSON

/// `authzd ping [--socket PATH]`: is the daemon answering on its socket? For people and for
/// monitoring scripts: exit 0 when it answers `ok`, 1 when it cannot be reached or answers
/// anything else.
struct Ping: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send a ping to the daemon; print the answer; exit 0 if it answers, 1 if not.")

    @Option(help: "The daemon's socket.") var socket: String = "/run/authzd/authzd.sock"
    @Option(help: "Seconds to wait for the answer.") var timeout: Double = 5

    func validate() throws {
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be a number of seconds above 0 and at most 3600") }
    }

    func run() throws {
        let answer = try DaemonOp.send(.ping, command: "ping", socket: socket, timeout: timeout)
        print(answer.line)
    }
}
