import Foundation
import Testing

/// A real nginx (`/usr/sbin/nginx`) serving the repository's own `deploy/nginx/example-site.conf`
/// from a private prefix directory, in front of a stub upstream and a real `authzd-nginx`.
///
/// The snippets are used as shipped: the ones without addresses are symlinked, and only the
/// addresses in `authzd-upstream.conf` (the shim) and `example-site.conf` (the listen port and
/// Ant Media's 127.0.0.1:5080) are rewritten, each rewrite required to match exactly once so a
/// changed snippet fails the test instead of being tested half-way. nginx runs in the foreground
/// as a single process (`master_process off`) unless a test asks for workers as www-data, so
/// killing it leaves no workers behind and it never switches to an unprivileged user that could not read the private prefix.
final class NginxUnderTest: @unchecked Sendable {
    static let executable = "/usr/sbin/nginx"
    static var snippets: URL { TestEnvironment.packageRoot.appendingPathComponent("deploy/nginx") }

    let prefix: String
    let port: Int
    let process: ChildProcess

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var errorLog: String { (try? String(contentsOfFile: prefix + "/logs/error.log", encoding: .utf8)) ?? "" }

    /// With `decisionCache`, the site includes authzd-cached.conf instead of authzd.conf, and
    /// its commented include of authzd-cache-path.conf is uncommented.
    /// `shimAddress` is what the upstream block's `server` takes ("127.0.0.1:PORT" or
    /// "unix:PATH"). With `exemptPlayerPage`, example-site.conf's commented example of a named
    /// exemption (LiveApp's player page) is uncommented. With `workerUser`, nginx runs as
    /// deployed: a root master and one worker process as that user (Debian's www-data).
    init(dir: TempDirectory, shimAddress: String, upstreamPort: Int, decisionCache: Bool = false,
         exemptPlayerPage: Bool = false, workerUser: String? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable) else {
            Issue.record("\(Self.executable) is missing: install nginx-light (`make test` does)")
            throw TestFailure("no nginx")
        }
        prefix = dir.file("nginx")
        let fm = FileManager.default
        for sub in ["conf/authzd", "logs", "tmp", "cache"] {
            try fm.createDirectory(atPath: prefix + "/" + sub, withIntermediateDirectories: true)
        }
        var attempt = 0
        while true {
            attempt += 1
            let port = try Loopback.freePort()
            try Self.writeConfiguration(prefix: prefix, port: port, shimAddress: shimAddress, upstreamPort: upstreamPort,
                                        decisionCache: decisionCache, exemptPlayerPage: exemptPlayerPage,
                                        workerUser: workerUser)
            let p = try ChildProcess(Self.executable, ["-p", prefix + "/", "-c", "conf/nginx.conf", "-e", "logs/error.log"],
                                     logPath: prefix + "/logs/stdout-\(attempt).log")
            if eventually(timeout: 20, { Loopback.accepts(port: port) || !p.isRunning }) && p.isRunning {
                self.port = port
                process = p
                return
            }
            // Most likely the port was taken between our probe and nginx's bind: try another.
            guard attempt < 3 else {
                let log = (try? String(contentsOfFile: prefix + "/logs/error.log", encoding: .utf8)) ?? ""
                Issue.record("nginx did not start; its error log:\n\(log)\n\(p.log)")
                throw TestFailure("nginx did not start")
            }
        }
    }

    /// Lays out `prefix/conf`: the generated main file and the snippets under `authzd/`, where
    /// example-site.conf expects them (`include authzd/...;` is relative to the conf directory).
    static func writeConfiguration(prefix: String, port: Int, shimAddress: String, upstreamPort: Int,
                                   decisionCache: Bool = false, exemptPlayerPage: Bool = false,
                                   workerUser: String? = nil) throws {
        let fm = FileManager.default
        var site = [
            ("listen 80;", "listen 127.0.0.1:\(port);"),
            ("server 127.0.0.1:5080;", "server 127.0.0.1:\(upstreamPort);"),
        ]
        if decisionCache {
            site += [
                ("#include authzd/authzd-cache-path.conf;", "include authzd/authzd-cache-path.conf;"),
                ("    include authzd/authzd.conf;\n", "    include authzd/authzd-cached.conf;\n"),
            ]
        }
        let rewrites: [String: [(String, String)]] = [
            // The shipped address is the shim's Unix socket under /run; the test's shim is on TCP.
            "authzd-upstream.conf": [("server unix:/run/authzd-nginx/authzd-nginx.sock;", "server \(shimAddress);")],
            "example-site.conf": site,
            // nginx creates the last directory itself, as it would in Debian's /var/lib/nginx.
            "authzd-cache-path.conf": [("proxy_cache_path /var/lib/nginx/authzd-cache ", "proxy_cache_path \(prefix)/cache/authzd-cache ")],
        ]
        let names = try fm.contentsOfDirectory(atPath: snippets.path).filter { $0.hasSuffix(".conf") }
        for name in rewrites.keys where !names.contains(name) {
            throw TestFailure("deploy/nginx/\(name) is gone; update NginxUnderTest")
        }
        for name in names {
            let source = snippets.appendingPathComponent(name).path
            let target = "\(prefix)/conf/authzd/\(name)"
            try? fm.removeItem(atPath: target)
            guard let edits = rewrites[name] else {
                try fm.createSymbolicLink(atPath: target, withDestinationPath: source)
                continue
            }
            var text = try String(contentsOfFile: source, encoding: .utf8)
            for (old, new) in edits {
                let count = text.components(separatedBy: old).count - 1
                guard count == 1 else {
                    throw TestFailure("deploy/nginx/\(name) has \(count) copies of `\(old)`, the test expects one; update NginxUnderTest")
                }
                text = text.replacingOccurrences(of: old, with: new)
            }
            if exemptPlayerPage && name == "example-site.conf" {
                text = try uncommentExemption(text)
            }
            try text.write(toFile: target, atomically: true, encoding: .utf8)
        }
        let main = """
            # Generated by the nginx end-to-end tests around deploy/nginx/example-site.conf.
            daemon off;
            \(workerUser.map { "master_process on;\nuser \($0);\nworker_processes 1;" } ?? "master_process off;")
            pid \(prefix)/logs/nginx.pid;
            error_log \(prefix)/logs/error.log info;
            events {
                worker_connections 1024;
            }
            http {
                access_log \(prefix)/logs/access.log;
                client_body_temp_path \(prefix)/tmp/body;
                proxy_temp_path \(prefix)/tmp/proxy;
                fastcgi_temp_path \(prefix)/tmp/fastcgi;
                uwsgi_temp_path \(prefix)/tmp/uwsgi;
                scgi_temp_path \(prefix)/tmp/scgi;
                include \(prefix)/conf/authzd/example-site.conf;
            }

            """
        try main.write(toFile: prefix + "/conf/nginx.conf", atomically: true, encoding: .utf8)
    }

    /// The user ids of nginx's worker processes (the master's children).
    var workerUIDs: [uid_t] {
        let master = process.pid
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid -> uid_t? in
            guard Int32(pid) != nil, let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
            let fields = Dictionary(status.split(separator: "\n").compactMap { line -> (String, String)? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }, uniquingKeysWith: { a, _ in a })
            guard fields["PPid"] == "\(master)", let uid = fields["Uid"]?.split(separator: "\t").first else { return nil }
            return uid_t(uid)
        }
    }

    /// A master with workers is stopped with SIGTERM, which it passes on to them, so no worker
    /// outlives the test (ChildProcess would SIGKILL the master alone).
    deinit {
        if process.isRunning {
            process.signal(SIGTERM)
            _ = process.waitForExit(timeout: 20)
        }
    }

    /// Uncomments example-site.conf's example exemption, from its `location = /LiveApp/play.html {`
    /// line (and the comment above it) to the `}` that closes it.
    static func uncommentExemption(_ text: String) throws -> String {
        var lines = text.components(separatedBy: "\n")
        guard let open = lines.firstIndex(of: "    #     location = /LiveApp/play.html {"),
              let close = lines[open...].firstIndex(of: "    #     }") else {
            throw TestFailure("deploy/nginx/example-site.conf has no commented exemption for /LiveApp/play.html; update NginxUnderTest")
        }
        for i in open...close {
            lines[i] = "    " + lines[i].dropFirst(5)
        }
        return lines.joined(separator: "\n")
    }
}
