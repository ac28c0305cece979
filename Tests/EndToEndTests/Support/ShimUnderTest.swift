import Foundation
import Testing

/// A real `authzd-nginx` asking the authzd at `upstream`: on a free loopback port by default, or on
/// a Unix socket, optionally as another user (through `setpriv`, as a unit's `User=` or
/// `DynamicUser=` runs it).
final class ShimUnderTest: @unchecked Sendable {
    /// Who the shim runs as; nil keeps the test's own user.
    struct User {
        var uid: Int
        var gid: Int
        /// Supplementary groups (none when empty).
        var groups: [Int] = []

        /// `nobody:nogroup`, the usual stand-in for an unprivileged service user.
        static let nobody = User(uid: 65534, gid: 65534)

        /// `setpriv` arguments that drop to this user before running the command.
        var setprivArguments: [String] {
            ["--reuid=\(uid)", "--regid=\(gid)"] + (groups.isEmpty ? ["--clear-groups"] : ["--groups=" + groups.map(String.init).joined(separator: ",")])
        }
    }

    static let setpriv = "/usr/bin/setpriv"

    /// The TCP port; 0 when listening on a Unix socket.
    let port: Int
    /// The Unix listen socket, when listening on one.
    let socketPath: String?
    let process: ChildProcess

    /// Starts the shim on a free loopback port and waits until it accepts connections; it need not
    /// reach authzd yet.
    convenience init(upstream socketPath: String, dir: TempDirectory) throws {
        try self.init(upstream: socketPath, dir: dir, arguments: [])
    }

    /// `unixSocket`: listen there (`--listen unix:PATH`) instead of on a TCP port. `arguments` are
    /// added to the command line (`--listen-group`, `--header-timeout`, ...).
    init(upstream socketPath: String, dir: TempDirectory, user: User? = nil, unixSocket: String? = nil,
         arguments: [String] = []) throws {
        let binary = try TestEnvironment.binary("authzd-nginx")
        var attempt = 0
        while true {
            attempt += 1
            let port = unixSocket == nil ? try Loopback.freePort() : 0
            let listen = unixSocket.map { "unix:\($0)" } ?? "127.0.0.1:\(port)"
            let shimArguments = ["--upstream", socketPath, "--listen", listen] + arguments
            let p: ChildProcess
            if let user {
                guard FileManager.default.isExecutableFile(atPath: Self.setpriv) else {
                    Issue.record("\(Self.setpriv) is missing: install util-linux")
                    throw TestFailure("no setpriv")
                }
                guard geteuid() == 0 else {
                    Issue.record("running the shim as uid \(user.uid) needs root (make test runs as root)")
                    throw TestFailure("not root")
                }
                p = try ChildProcess(Self.setpriv, user.setprivArguments + [binary] + shimArguments,
                                     logPath: dir.file("shim-\(attempt).log"))
            } else {
                p = try ChildProcess(binary, shimArguments, logPath: dir.file("shim-\(attempt).log"))
            }
            let up = eventually(timeout: 20) {
                !p.isRunning || (unixSocket.map { Self.unixAccepts($0) } ?? Loopback.accepts(port: port))
            }
            if up && p.isRunning {
                self.port = port
                self.socketPath = unixSocket
                process = p
                return
            }
            // The port may have been taken between our probe and the shim's bind: try another.
            guard attempt < 3, unixSocket == nil else {
                Issue.record("authzd-nginx did not start; its log:\n\(p.log)")
                throw TestFailure("authzd-nginx did not start")
            }
        }
    }

    /// True when something accepts connections on the Unix socket at `path`.
    static func unixAccepts(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = b }
        }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
    }

    /// The real user id the shim process runs as (from /proc).
    var uid: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") }) else { return nil }
        return line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first.flatMap { Int($0) }
    }
}
