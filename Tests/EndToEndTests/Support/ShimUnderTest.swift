import Foundation
import Testing

/// A real `authzd-nginx` listening on a free loopback port and asking the authzd at `upstream`.
final class ShimUnderTest: @unchecked Sendable {
    let port: Int
    let process: ChildProcess

    /// Starts the shim and waits until it accepts connections; it need not reach authzd yet.
    init(upstream socketPath: String, dir: TempDirectory) throws {
        var attempt = 0
        while true {
            attempt += 1
            let port = try Loopback.freePort()
            let p = try ChildProcess(try TestEnvironment.binary("authzd-nginx"),
                                     ["--upstream", socketPath, "--listen", "127.0.0.1:\(port)"],
                                     logPath: dir.file("shim-\(attempt).log"))
            if eventually(timeout: 20, { Loopback.accepts(port: port) || !p.isRunning }) && p.isRunning {
                self.port = port
                process = p
                return
            }
            // The port may have been taken between our probe and the shim's bind: try another.
            guard attempt < 3 else {
                Issue.record("authzd-nginx did not start; its log:\n\(p.log)")
                throw TestFailure("authzd-nginx did not start")
            }
        }
    }
}
