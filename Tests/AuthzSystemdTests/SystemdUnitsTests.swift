import Foundation
import Testing

/// The unit files in deploy/systemd, checked by systemd itself. `systemd-analyze verify` works
/// without systemd as PID 1; it checks that ExecStart binaries exist, so the units are verified
/// from a copy whose /usr/local/bin paths point at the built binaries. It reports unknown keys and
/// bad values on stderr but still exits 0, so any output counts as a failure.
@Suite struct SystemdUnitsTests {
    static let unitsDirectory = packageRoot.appendingPathComponent("deploy/systemd")
    static let units = ["authzd.service", "authzd.socket", "authzd-nginx.service"]

    /// The built binary, or /bin/true where it has not been built: the units' syntax is what is
    /// checked here; running the binaries is the end-to-end tests' job.
    private static func binary(_ name: String) -> String {
        var directories: [String] = []
        if let override = ProcessInfo.processInfo.environment["AUTHZD_BIN_DIR"] { directories.append(override) }
        let debug: String = packageRoot.appendingPathComponent(".build/debug").path
        let release: String = packageRoot.appendingPathComponent(".build/release").path
        directories += [debug, release]
        let candidates = directories.map { "\($0)/\(name)" }
        return findExecutable(candidates) ?? "/bin/true"
    }

    private func verify(_ directory: URL, _ files: [String]) throws -> ProcessResult? {
        guard let analyze = findExecutable(["/usr/bin/systemd-analyze", "/bin/systemd-analyze"]) else {
            Issue.record("systemd-analyze not found: install the Debian package systemd")
            return nil
        }
        return try run(analyze, ["verify", "--man=no"] + files.map { "./\($0)" },
                       environment: ["SYSTEMD_LOG_LEVEL": "notice", "SYSTEMD_PAGER": ""],
                       currentDirectory: directory)
    }

    @Test func unitsPassSystemdAnalyzeVerify() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for unit in Self.units {
            var text = try String(contentsOf: Self.unitsDirectory.appendingPathComponent(unit), encoding: .utf8)
            text = text.replacingOccurrences(of: "/usr/local/bin/authzd-nginx", with: Self.binary("authzd-nginx"))
            text = text.replacingOccurrences(of: "/usr/local/bin/authzd", with: Self.binary("authzd"))
            try text.write(to: directory.appendingPathComponent(unit), atomically: true, encoding: .utf8)
        }
        guard let result = try verify(directory, Self.units) else { return }
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty, "systemd-analyze complained:\n\(result.stderr)")
    }

    /// Shows that the check above can fail: systemd-analyze does report a misspelt key.
    @Test func verifyReportsAnUnknownKey() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try "[Service]\nType=notify\nExecStart=/bin/true\nWatchdogSecs=30s\n"
            .write(to: directory.appendingPathComponent("broken.service"), atomically: true, encoding: .utf8)
        guard let result = try verify(directory, ["broken.service"]) else { return }
        #expect(result.stderr.contains("WatchdogSecs"))
    }

    @Test func unitsMatchTheContract() throws {
        func lines(_ unit: String) throws -> Set<String> {
            let text = try String(contentsOf: Self.unitsDirectory.appendingPathComponent(unit), encoding: .utf8)
            return Set(text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
        }
        let service = try lines("authzd.service")
        #expect(service.contains("Type=notify"))
        #expect(service.contains("ExecStart=/usr/local/bin/authzd serve --config /etc/authzd/authzd.toml"))
        #expect(service.contains("ExecReload=/bin/kill -HUP $MAINPID"))
        #expect(service.contains { $0.hasPrefix("WatchdogSec=") })
        #expect(service.contains("NotifyAccess=main"))
        let socket = try lines("authzd.socket")
        #expect(socket.contains("ListenStream=/run/authzd/authzd.sock"))
        #expect(socket.contains("Service=authzd.service"))
        let shim = try lines("authzd-nginx.service")
        #expect(shim.contains(
            "ExecStart=/usr/local/bin/authzd-nginx --upstream /run/authzd/authzd.sock --listen unix:/run/authzd-nginx/authzd-nginx.sock --listen-group www-data --listen-mode 0660"))
        #expect(shim.contains("RuntimeDirectory=authzd-nginx"))
        #expect(shim.contains("RuntimeDirectoryMode=0755"), "nginx must be able to reach the socket in it")
    }

    /// A RuntimeDirectory=authzd on the service would chown /run/authzd, and the socket unit's
    /// socket in it, to authzd:authzd at every start: www-data would lose access (seen under a
    /// real systemd, Tests/systemd).
    @Test func theServiceLeavesTheSocketDirectoryToTheSocketUnit() throws {
        let text = try String(contentsOf: Self.unitsDirectory.appendingPathComponent("authzd.service"), encoding: .utf8)
        let keys = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.hasPrefix("#") }
        #expect(!keys.contains { $0.hasPrefix("RuntimeDirectory") })
        let socket = try String(contentsOf: Self.unitsDirectory.appendingPathComponent("authzd.socket"), encoding: .utf8)
        #expect(socket.contains("SocketGroup=www-data"))
        #expect(socket.contains("SocketMode=0660"))
    }
}
