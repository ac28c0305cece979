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
        let answer = try DaemonOp.send("ping", command: "ping", socket: socket, timeout: timeout)
        print(answer.line)
    }
}

/// One `ping` or `stats` exchange (SPEC §3) for the command line, with the same plain-language
/// failures as `authzd query`.
enum DaemonOp {
    struct Answer {
        /// The answer line as received.
        let line: String
        let object: JSONObject
    }

    /// Sends `{"id":1,"op":OP}` and returns the answer when it says `ok: true`; otherwise throws
    /// the exit code 1 after saying why on stderr.
    static func send(_ op: String, command: String, socket: String, timeout: Double) throws -> Answer {
        let request = JSONValue.object(JSONObject([("id", 1), ("op", .string(op))]))
        let line: String
        do {
            line = try UnixLineClient(path: socket, timeout: timeout).roundTrip(request.jsonString)
        } catch {
            throw failure(command, error.description, exitCode: 1)
        }
        guard let value = try? JSONParser.parse(line), case .object(let object) = value else {
            throw failure(command, "the answer is not a JSON object (is \(socket) authzd's socket?)", exitCode: 1)
        }
        guard object["ok"]?.boolValue == true else {
            let why = object["message"]?.stringValue ?? object["reason"]?.stringValue ?? "no reason given"
            throw failure(command, "authzd did not answer ok: \(why)", exitCode: 1)
        }
        return Answer(line: line, object: object)
    }
}
