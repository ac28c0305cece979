import ArgumentParser
import AuthzJSON
import AuthzWire
import NIOCore

/// One `ping` or `stats` exchange (SPEC §3) for the command line, with the same plain-language
/// failures as `authzd query`.
enum DaemonOp {
    struct Answer {
        /// The answer line as received.
        let line: String
        let object: JSONObject
    }

    /// The two operations a command line may ask for besides a check.
    enum Op: String {
        case ping, stats
    }

    /// Sends `{"id":1,"op":OP}` and returns the answer when it says `ok: true`; otherwise throws
    /// the exit code 1 after saying why on stderr.
    static func send(_ op: Op, command: String, socket: String, timeout: Double) throws -> Answer {
        var request = ByteBuffer()
        switch op {
        case .ping: WireRequest.ping(id: 1).encode(into: &request)
        case .stats: WireRequest.stats(id: 1).encode(into: &request)
        }
        let line: String
        do {
            line = try UnixLineClient(path: socket, timeout: timeout).roundTrip(request.readableBytesView)
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
