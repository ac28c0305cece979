import Foundation

/// The whole path of SPEC §5, each part a real process: curl → nginx (the repository's
/// example site) → authzd-nginx → authzd, and behind nginx either a stub of Ant Media's REST API
/// (`EchoUpstream`) or a real servlet container (`TomcatUpstream`, one context per app).
/// Everything stops when the stack is released (each `ChildProcess` kills its process).
final class NginxStack: @unchecked Sendable {
    let dir: TempDirectory
    let apps: [String: String]
    /// authzd's socket lives in the stack's directory, so a restarted authzd binds the same path.
    let socketPath: String
    private(set) var daemon: DaemonUnderTest?
    /// The stub upstream, or nil when Tomcat serves instead.
    let upstream: EchoUpstream?
    let tomcat: TomcatUpstream?
    let shim: ShimUnderTest
    let nginx: NginxUnderTest

    /// `decisionCache`: run the site with authzd-cached.conf instead of authzd.conf.
    /// `tomcat`: serve the apps from embedded Tomcat (a context per app) instead of the stub.
    init(apps: [String: String], decisionCache: Bool = false, tomcat useTomcat: Bool = false) throws {
        dir = try TempDirectory("nginx")
        self.apps = apps
        socketPath = dir.file("authzd.sock")
        daemon = try DaemonUnderTest(apps: apps, socketPath: socketPath)
        upstream = useTomcat ? nil : try EchoUpstream(dir: dir)
        tomcat = useTomcat ? try TomcatUpstream(dir: dir, contexts: apps.keys.sorted()) : nil
        shim = try ShimUnderTest(upstream: socketPath, dir: dir)
        nginx = try NginxUnderTest(dir: dir, shimPort: shim.port, upstreamPort: upstream?.port ?? tomcat?.port ?? 0,
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
