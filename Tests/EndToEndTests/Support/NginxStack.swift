import Foundation
import Testing

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
    /// The shim on TCP (`ShimUnderTest`), or nil when it listens on a Unix socket.
    let shim: ShimUnderTest?
    /// The shim on a Unix socket, started as the shipped unit starts it.
    let unixShim: ChildProcess?
    var shimProcess: ChildProcess { shim?.process ?? unixShim! }
    let nginx: NginxUnderTest

    /// `decisionCache`: run the site with authzd-cached.conf instead of authzd.conf.
    /// `tomcat`: serve the apps from embedded Tomcat (a context per app) instead of the stub.
    /// `shimOnUnixSocket`: nginx reaches the shim on a Unix socket, as authzd-upstream.conf ships.
    /// `exemptPlayerPage`: uncomment example-site.conf's example exemption.
    /// `lenientTomcat`: Tomcat decodes %2f and %5c (see `TomcatUpstream`).
    /// `shimListenGroup`: the group of the shim's Unix socket (nil: the shim's own, root's).
    /// `nginxWorkerUser`: nginx's workers run as this user, as deployed (e.g. "www-data").
    init(apps: [String: String], decisionCache: Bool = false, tomcat useTomcat: Bool = false, lenientTomcat: Bool = false,
         shimOnUnixSocket: Bool = false, shimListenGroup: String? = "www-data", exemptPlayerPage: Bool = false,
         nginxWorkerUser: String? = nil) throws {
        dir = try TempDirectory("nginx")
        if nginxWorkerUser != nil {
            // Like /run/authzd-nginx: others may pass through to the socket, the socket decides.
            guard chmod(dir.path, 0o711) == 0 else { throw TestFailure("chmod \(dir.path) failed") }
        }
        self.apps = apps
        socketPath = dir.file("authzd.sock")
        daemon = try DaemonUnderTest(apps: apps, socketPath: socketPath)
        upstream = useTomcat ? nil : try EchoUpstream(dir: dir)
        tomcat = useTomcat ? try TomcatUpstream(dir: dir, contexts: apps.keys.sorted(), lenient: lenientTomcat) : nil
        let shimAddress: String
        if shimOnUnixSocket {
            shim = nil
            let path = dir.file("shim.sock")
            unixShim = try Self.startShim(upstream: socketPath, listen: path, group: shimListenGroup, dir: dir)
            shimAddress = "unix:" + path
        } else {
            let tcp = try ShimUnderTest(upstream: socketPath, dir: dir)
            shim = tcp
            unixShim = nil
            shimAddress = "127.0.0.1:\(tcp.port)"
        }
        nginx = try NginxUnderTest(dir: dir, shimAddress: shimAddress, upstreamPort: upstream?.port ?? tomcat?.port ?? 0,
                                   decisionCache: decisionCache, exemptPlayerPage: exemptPlayerPage,
                                   workerUser: nginxWorkerUser)
    }

    /// authzd-nginx with the listen flags of the shipped unit: a Unix socket of group www-data
    /// (or `group`), mode 0660.
    static func startShim(upstream: String, listen path: String, group: String?, dir: TempDirectory) throws -> ChildProcess {
        let p = try ChildProcess(try TestEnvironment.binary("authzd-nginx"),
                                 ["--upstream", upstream, "--listen", "unix:" + path, "--listen-mode", "0660"]
                                     + (group.map { ["--listen-group", $0] } ?? []),
                                 logPath: dir.file("shim-unix.log"))
        guard eventually(timeout: 20, { FileManager.default.fileExists(atPath: path) || !p.isRunning }), p.isRunning else {
            Issue.record("authzd-nginx did not listen on \(path); its log:\n\(p.log)")
            throw TestFailure("authzd-nginx did not start")
        }
        return p
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
        "nginx error.log:\n\(nginx.errorLog)\nauthzd-nginx:\n\(shimProcess.log)\nauthzd:\n\(daemon?.process.log ?? "(stopped)")"
    }
}
