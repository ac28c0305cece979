import AuthzJSON
import Foundation
import Testing

/// A stand-in for Ant Media Server's REST API (`Tests/support/echo_upstream.py`): answers every
/// request 200 with a JSON description of what reached it, headers included, so a test sees
/// what nginx passed upstream.
final class EchoUpstream: @unchecked Sendable {
    let port: Int
    let process: ChildProcess

    static var script: String {
        TestEnvironment.packageRoot.appendingPathComponent("Tests/support/echo_upstream.py").path
    }

    init(dir: TempDirectory) throws {
        let process = try ChildProcess("/usr/bin/env", ["python3", Self.script], logPath: dir.file("upstream.log"))
        self.process = process
        var found: Int?
        _ = eventually(timeout: 20) {
            let log = process.log
            if let line = log.split(separator: "\n").first(where: { $0.hasPrefix("PORT ") }) {
                found = Int(line.dropFirst(5))
            }
            return found != nil || !process.isRunning
        }
        guard let found else {
            Issue.record("the stub upstream (python3 \(Self.script)) did not start; it said:\n\(process.log)")
            throw TestFailure("stub upstream did not start")
        }
        port = found
    }

    /// What the upstream saw, from a response body it wrote.
    struct Seen {
        let method: String
        let path: String
        let bodyLength: Int
        let headers: [(name: String, value: String)]

        /// Every value received under this name (case-insensitive), in order.
        func values(_ name: String) -> [String] {
            headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        }

        init(body: String) throws {
            // A body that is not JSON is nginx's own error page: the request never got through.
            guard let json = try? JSONParser.parse(body), let method = json["method"]?.stringValue,
                  let path = json["path"]?.stringValue, case .array(let list)? = json["headers"] else {
                throw TestFailure("not a stub upstream answer: \(body)")
            }
            self.method = method
            self.path = path
            bodyLength = json["body_length"]?.numberValue?.int64.map { Int($0) } ?? -1
            headers = list.compactMap { pair in
                guard case .array(let p) = pair, p.count == 2, let n = p[0].stringValue, let v = p[1].stringValue else { return nil }
                return (n, v)
            }
        }
    }
}
