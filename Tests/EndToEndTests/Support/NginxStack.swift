import Foundation

/// The whole path of SPEC §5, each part a real process: curl → nginx (the repository's
/// example site) → authzd-nginx → authzd, and behind nginx a stub of Ant Media's REST API.
/// Everything stops when the stack is released (each `ChildProcess` kills its process).
final class NginxStack: @unchecked Sendable {
    let dir: TempDirectory
    let apps: [String: String]
    /// authzd's socket lives in the stack's directory, so a restarted authzd binds the same path.
    let socketPath: String
    private(set) var daemon: DaemonUnderTest?
    let upstream: EchoUpstream
    let shim: ShimUnderTest
    let nginx: NginxUnderTest

    /// `decisionCache`: run example-site.conf's caching variant of `/_authz`.
    init(apps: [String: String], decisionCache: Bool = false) throws {
        dir = try TempDirectory("nginx")
        self.apps = apps
        socketPath = dir.file("authzd.sock")
        daemon = try DaemonUnderTest(apps: apps, socketPath: socketPath)
        upstream = try EchoUpstream(dir: dir)
        shim = try ShimUnderTest(upstream: socketPath, dir: dir)
        nginx = try NginxUnderTest(dir: dir, shimPort: shim.port, upstreamPort: upstream.port,
                               decisionCache: decisionCache)
    }

    /// Stops authzd (SIGTERM); nginx and the shim keep running.
    func stopDaemon() throws {
        guard let d = daemon else { return }
        guard d.stop() == 0 else { throw TestFailure("authzd did not stop cleanly; its log:\n\(d.process.log)") }
        daemon = nil
    }

    /// Starts authzd again on the same socket and configuration.
    func startDaemon() throws {
        daemon = try DaemonUnderTest(apps: apps, socketPath: socketPath)
    }

    /// One request through nginx to `path` (e.g. "/LiveApp/rest/v2/broadcasts/create").
    func request(_ path: String, method: String = "GET", headers: [String] = [], from source: String? = nil,
                 options: [String] = []) throws -> CurlResponse {
        try Curl.request(nginx.baseURL + path, method: method, headers: headers, from: source, options: options)
    }

    /// Logs of every part, for a failing test's message.
    var logs: String {
        "nginx error.log:\n\(nginx.errorLog)\nauthzd-nginx:\n\(shim.process.log)\nauthzd:\n\(daemon?.process.log ?? "(stopped)")"
    }
}
