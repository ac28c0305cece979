import ArgumentParser
import AuthzJSON

/// `authzd stats [--socket PATH]`: the daemon's `stats` answer (uptime, per-app counts, JWKS
/// sources), pretty-printed. Exit 0 when printed, 1 when the daemon cannot be reached or does
/// not answer `ok`.
struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask the daemon for its statistics and print them; exit 1 if it cannot be reached.")

    @Option(help: "The daemon's socket.") var socket: String = "/run/authzd/authzd.sock"
    @Option(help: "Seconds to wait for the answer.") var timeout: Double = 5

    func validate() throws {
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be a number of seconds above 0 and at most 3600") }
    }

    func run() throws {
        let answer = try DaemonOp.send(.stats, command: "stats", socket: socket, timeout: timeout)
        guard let stats = answer.object["stats"], case .object = stats else {
            throw failure("stats", "the answer holds no stats object", exitCode: 1)
        }
        print(Self.pretty(stats))
    }

    /// JSON with one member or element per line, indented by two spaces per level.
    static func pretty(_ value: JSONValue, indent: String = "") -> String {
        let inner = indent + "  "
        switch value {
        case .object(let o) where !o.members.isEmpty:
            let lines = o.members.map { inner + JSONValue.string($0.key).jsonString + ": " + pretty($0.value, indent: inner) }
            return "{\n" + lines.joined(separator: ",\n") + "\n" + indent + "}"
        case .array(let items) where !items.isEmpty:
            return "[\n" + items.map { inner + pretty($0, indent: inner) }.joined(separator: ",\n") + "\n" + indent + "]"
        default:
            return value.jsonString
        }
    }
}
