import AuthzJSON
import Foundation
import Testing

/// A real `authzd serve` on a configuration written into a temporary directory.
final class DaemonUnderTest: @unchecked Sendable {
    let dir: TempDirectory
    let socketPath: String
    let configPath: String
    let process: ChildProcess

    /// Writes `main` (the `[server]` socket is added when absent) and each app file, then starts
    /// the daemon and waits until it answers `ping`.
    init(main: String = "", apps: [String: String] = [:], environment: [String: String]? = nil,
         waitForSocket: Bool = true, socketPath: String? = nil) throws {
        dir = try TempDirectory("authzd")
        self.socketPath = socketPath ?? dir.file("authzd.sock")
        var text = main
        if !text.contains("[server]") {
            text = "[server]\nsocket = \"\(self.socketPath)\"\n" + text
        }
        configPath = try dir.write("authzd.toml", text)
        try FileManager.default.createDirectory(atPath: dir.file("apps.d"), withIntermediateDirectories: true)
        for (name, body) in apps { try dir.write("apps.d/\(name).toml", body) }
        var env = environment ?? ProcessInfo.processInfo.environment
        if environment == nil {
            for k in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "JOURNAL_STREAM", "INVOCATION_ID"] {
                env.removeValue(forKey: k)
            }
        }
        process = try ChildProcess(try TestEnvironment.binary("authzd"), ["serve", "--config", configPath],
                                   logPath: dir.file("authzd.log"), environment: env)
        if waitForSocket {
            let up = eventually(timeout: 20) { (try? LineClient(path: self.socketPath, timeout: 2).ask("{\"op\":\"ping\"}")) != nil }
            if !up {
                Issue.record("authzd did not come up; its log:\n\(process.log)")
                throw TestFailure("authzd did not start")
            }
        }
    }

    func client() throws -> LineClient { try LineClient(path: socketPath) }

    /// One check over a fresh connection.
    func check(app: String, ip: String? = "127.0.0.1", headers: [String: String] = [:], id: Int? = nil) throws -> JSONValue {
        var o = JSONObject([("app", .string(app))])
        if let id { o["id"] = .number(JSONNumber(id)) }
        if let ip { o["remote_addr"] = .string(ip) }
        if !headers.isEmpty {
            o["headers"] = .object(JSONObject(headers.sorted { $0.key < $1.key }.map { (key: $0.key, value: JSONValue.string($0.value)) }))
        }
        return try client().ask(JSONValue.object(o).jsonString)
    }

    func stats() throws -> JSONValue {
        let a = try client().ask("{\"op\":\"stats\"}")
        return a["stats"] ?? .null
    }

    func reload() { process.signal(SIGHUP) }

    /// SIGTERM and the exit status (nil when it did not exit in time).
    func stop() -> Int32? {
        process.signal(SIGTERM)
        return process.waitForExit(timeout: 15)
    }
}

/// The SPEC §2 `token mint` through the real binary.
func mintToken(secret: String, alg: String = "HS256", claims: [String] = [], expiresIn: Int? = nil, kid: String? = nil) throws -> String {
    var args = ["token", "mint", "--secret", secret, "--alg", alg]
    for c in claims { args += ["--claim", c] }
    if let expiresIn { args += ["--expires-in=\(expiresIn)"] }
    if let kid { args += ["--kid", kid] }
    let r = try runCommand(try TestEnvironment.binary("authzd"), args)
    guard r.status == 0 else { throw TestFailure("token mint failed: \(r.stderr)") }
    return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
}
