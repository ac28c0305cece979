import AuthzJSON
import Foundation
import Testing

/// The daemon's edges, through the real binary: connections that go quiet (issue 9) and the socket
/// file (issue 11: created race-free, never taken over from a live daemon, errors in plain words).
@Suite("authzd socket and connection edges")
struct ServerEdgeEndToEndTests {
    static let apps = [
        "web": """
            [[chain]]
            plugin = "ip_allowlist"
            allow = ["127.0.0.1"]
            """,
    ]
    static let ping = "{\"op\":\"ping\"}"
    static let nobody: UInt32 = 65534

    // MARK: - Quiet connections

    @Test func halfSentLinesNoLongerLockOutALegitimateClient() throws {
        let d = try DaemonUnderTest(main: "max_connections = 64\nrequest_timeout = 2\n", apps: Self.apps)
        // 64 peers that each got in (their ping was answered), then hold a line half-sent.
        var held: [LineClient] = []
        for _ in 0..<64 {
            held.append(try #require(answeringClient(d.socketPath), "connection \(held.count + 1) of 64"))
        }
        for c in held { try c.send("{\"op\":\"pi") }
        // A legitimate client gets in once request_timeout has freed the slots.
        let admitted = eventually(timeout: 60) {
            (try? LineClient(path: d.socketPath, timeout: 2).ask(Self.ping))?["ok"] == .bool(true)
        }
        #expect(admitted)
        // Each half-sent line got its answer saying why, then its connection was closed.
        for c in held {
            let a = try c.readJSON()
            #expect(a["reason"] == "bad_request")
            #expect(a["message"]?.stringValue?.contains("request_timeout") == true)
            #expect(c.readLine() == nil)
        }
        // 64 closures and the refusals before them: one line each at most, not one per connection.
        let log = d.process.log.split(separator: "\n")
        #expect(log.filter { $0.contains("request line incomplete") }.count == 1, "\(log)")
        #expect(log.filter { $0.contains("refused a connection") }.count <= 1, "\(log)")
    }

    @Test func anIdleConnectionIsClosedAfterIdleTimeout() throws {
        let d = try DaemonUnderTest(main: "idle_timeout = 1\n", apps: Self.apps)
        let c = try LineClient(path: d.socketPath, timeout: 30)
        #expect(try c.ask(Self.ping)["ok"] == .bool(true))
        #expect(c.isClosedByPeer(), "no EOF within 30 s although idle_timeout is 1 s")
    }

    @Test func aBusyConnectionIsNotClosed() throws {
        // A key fetch that hangs until fetch_timeout (5 s), longer than both timeouts (2 s).
        let provider = try HangingListener()
        var apps = Self.apps
        apps["idp"] = provider.jwksApp(fetchTimeout: 5)
        let d = try DaemonUnderTest(main: "idle_timeout = 2\nrequest_timeout = 2\n", apps: apps)
        let c = try LineClient(path: d.socketPath, timeout: 30)
        // Owed an answer for seconds: not idle.
        let waited = try c.ask("{\"id\":1,\"app\":\"idp\",\"remote_addr\":\"127.0.0.1\",\"headers\":{\"authorization\":\"Bearer \(unverifiableRS256Token)\"}}")
        #expect(waited["reason"] == "jwks_unavailable")
        // Steadily sending lines, each in two pieces, for three times the timeouts: never cut.
        let until = Date().addingTimeInterval(6)
        var answered = 0
        var sent = 0
        while Date() < until {
            try c.send("{\"id\":\(sent),")
            usleep(200_000)
            try c.send("\"op\":\"ping\"}\n")
            sent += 1
            if try c.readJSON()["ok"] == .bool(true) { answered += 1 }
            usleep(200_000)
        }
        #expect(sent > 0 && answered == sent)
        #expect(try c.ask(Self.ping)["ok"] == .bool(true))
    }

    // MARK: - The socket file

    @Test func theSocketAppearsWithItsFinalModeAndGroupByRename() throws {
        for run in 1...5 {
            let dir = try TempDirectory("mode")
            chmod(dir.path, 0o755)
            let path = dir.file("authzd.sock")
            let config = try dir.write("authzd.toml", """
                [server]
                socket = "\(path)"
                socket_mode = "0640"
                socket_group = "nogroup"
                """)
            let watch = try DirectoryWatch(dir.path)
            let firstSight = FirstSight(path)
            // umask 000: a socket bound in place would appear as 0777 before its chmod.
            let daemon = try ChildProcess("/bin/sh", ["-c", "umask 000; exec \"$0\" serve --config \"$1\"",
                                                      try TestEnvironment.binary("authzd"), config],
                                          logPath: dir.file("authzd.log"), environment: plainEnvironment())
            let up = eventually(timeout: 20) { (try? LineClient(path: path, timeout: 2).ask(Self.ping)) != nil }
            #expect(up, "run \(run): \(daemon.log)")
            let seen = try #require(firstSight.wait(), "run \(run)")
            #expect(seen.mode == 0o640, "run \(run): first seen with mode \(String(seen.mode, radix: 8))")
            #expect(seen.gid == Self.nobody, "run \(run): first seen with gid \(seen.gid)")
            let events = watch.events()
            #expect(events.contains { $0.name == "authzd.sock" && $0.movedIn }, "run \(run): \(events)")
            #expect(!events.contains { $0.name == "authzd.sock" && !$0.movedIn }, "run \(run): created in place: \(events)")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 15) == 0)
            let left = try FileManager.default.contentsOfDirectory(atPath: dir.path)
            #expect(left.sorted() == ["authzd.log", "authzd.toml"], "run \(run): left behind \(left)")
        }
    }

    @Test func anotherUserCannotConnectWhileTheDaemonStarts() throws {
        let dir = try TempDirectory("race")
        chmod(dir.path, 0o755)
        let path = dir.file("authzd.sock")
        let config = try dir.write("authzd.toml", "[server]\nsocket = \"\(path)\"\nsocket_mode = \"0600\"\n")
        let stop = dir.file("stop")
        // A peer of another uid that tries to connect as fast as it can for the whole test.
        let prober = try ChildProcess("/usr/bin/setpriv", [
            "--reuid=\(Self.nobody)", "--regid=\(Self.nobody)", "--clear-groups", "/usr/bin/python3", "-c", """
            import os, socket, sys
            path, stop = sys.argv[1], sys.argv[2]
            tries = ok = 0
            while not os.path.exists(stop):
                s = socket.socket(socket.AF_UNIX)
                try:
                    s.connect(path); ok += 1
                except OSError:
                    pass
                finally:
                    s.close()
                tries += 1
            print("tries", tries, "connected", ok, flush=True)
            """, path, stop], logPath: dir.file("prober.log"))
        for run in 1...10 {
            let daemon = try ChildProcess("/bin/sh", ["-c", "umask 000; exec \"$0\" serve --config \"$1\"",
                                                      try TestEnvironment.binary("authzd"), config],
                                          logPath: dir.file("authzd.log"), environment: plainEnvironment())
            #expect(eventually(timeout: 20) { (try? LineClient(path: path, timeout: 2).ask(Self.ping)) != nil }, "run \(run)")
            daemon.signal(SIGTERM)
            #expect(daemon.waitForExit(timeout: 15) == 0)
        }
        _ = FileManager.default.createFile(atPath: stop, contents: nil)
        #expect(prober.waitForExit(timeout: 15) == 0)
        let report = prober.log.split(separator: " ").map(String.init)
        #expect(report.count == 4 && (Int(report[1]) ?? 0) > 0, "prober said: \(prober.log)")
        #expect(report.count == 4 && report[3].trimmingCharacters(in: .whitespacesAndNewlines) == "0",
                "another uid connected during start-up: \(prober.log)")
    }

    @Test func aSecondDaemonRefusesALiveSocketAndTheFirstKeepsAnswering() throws {
        let first = try DaemonUnderTest(apps: Self.apps)
        var before = stat()
        #expect(lstat(first.socketPath, &before) == 0)
        let dir = try TempDirectory("second")
        let config = try dir.write("authzd.toml", "[server]\nsocket = \"\(first.socketPath)\"\n")
        let second = try runCommand(try TestEnvironment.binary("authzd"), ["serve", "--config", config],
                                    environment: plainEnvironment(), timeout: 30)
        #expect(second.status == 1)
        #expect(second.stderr.contains("cannot listen on \(first.socketPath): another process is listening on it"),
                "stderr: \(second.stderr)")
        var after = stat()
        #expect(lstat(first.socketPath, &after) == 0)
        #expect(after.st_ino == before.st_ino, "the live socket was replaced")
        #expect(try first.check(app: "web")["allow"] == .bool(true))
    }

    @Test func aSocketLeftByAKilledDaemonIsReplaced() throws {
        let dir = try TempDirectory("killed")
        let path = dir.file("authzd.sock")
        let first = try DaemonUnderTest(apps: Self.apps, socketPath: path)
        first.process.signal(SIGKILL)
        #expect(first.process.waitForExit(timeout: 15) != nil)
        #expect(FileManager.default.fileExists(atPath: path), "SIGKILL leaves the socket file behind")
        let second = try DaemonUnderTest(main: "[server]\nsocket = \"\(path)\"\n", apps: Self.apps, socketPath: path)
        #expect(try second.check(app: "web")["allow"] == .bool(true))
    }

    @Test func anExitingDaemonLeavesAnotherDaemonsSocketInPlace() throws {
        let dir = try TempDirectory("handover")
        let path = dir.file("authzd.sock")
        let first = try DaemonUnderTest(apps: Self.apps, socketPath: path)
        // The path is taken away from the first daemon and a second one binds it.
        unlink(path)
        let second = try DaemonUnderTest(main: "[server]\nsocket = \"\(path)\"\n", apps: Self.apps, socketPath: path)
        #expect(first.stop() == 0)
        #expect(FileManager.default.fileExists(atPath: path), "the first daemon removed the second one's socket")
        #expect(try second.check(app: "web")["allow"] == .bool(true))
        #expect(second.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: path), "a daemon removes its own socket")
    }

    @Test func aLongPathWhoseTemporaryNameWouldNotFitStillWorks() throws {
        let dir = try TempDirectory("long")
        // The directory is long enough that "<dir>/.authzd-XXXXXX/s" exceeds 107 bytes, while
        // "<dir>/a.sock" fits.
        var sub = dir.path
        while sub.utf8.count < 98 { sub += "/d" }
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        let path = sub + "/a.sock"
        #expect(path.utf8.count <= 107)
        let d = try DaemonUnderTest(main: "[server]\nsocket = \"\(path)\"\nsocket_mode = \"0600\"\n", apps: Self.apps,
                                    socketPath: path)
        var st = stat()
        #expect(lstat(path, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
        #expect(try d.check(app: "web")["allow"] == .bool(true))
    }

    // MARK: - Errors in plain words (as a non-root user)

    @Test func anUnwritableDirectoryIsNamedInPlainWords() throws {
        let dir = try readableTempDirectory("unwrit")
        let path = dir.file("authzd.sock")
        let r = try serveAsNobody(dir, socket: path)
        #expect(r.status == 1)
        #expect(r.stderr.contains("cannot listen on \(path): permission denied (the directory \(dir.path) is not writable by this user)"),
                "stderr: \(r.stderr)")
        #expect(!r.stderr.contains("errno"), "stderr: \(r.stderr)")
    }

    @Test func aMissingDirectoryIsNamedInPlainWords() throws {
        let dir = try readableTempDirectory("missing")
        let deep = dir.file("no/such/authzd.sock")
        let r = try serveAsNobody(dir, socket: deep)
        #expect(r.status == 1)
        #expect(r.stderr.contains("cannot listen on \(deep): the directory \(dir.file("no/such")) does not exist, nor does its parent \(dir.file("no"))"),
                "stderr: \(r.stderr)")
        let shallow = dir.file("sub/authzd.sock")
        let r2 = try serveAsNobody(dir, socket: shallow)
        #expect(r2.status == 1)
        #expect(r2.stderr.contains("cannot listen on \(shallow): the directory \(dir.file("sub")) does not exist and this user cannot create it (permission denied)"),
                "stderr: \(r2.stderr)")
    }

    @Test func aPathTooLongForAUnixSocketIsNamedInPlainWords() throws {
        let dir = try readableTempDirectory("toolong")
        let path = dir.path + "/" + String(repeating: "s", count: 120) + ".sock"
        let r = try serveAsNobody(dir, socket: path)
        #expect(r.status == 1)
        #expect(r.stderr.contains("cannot listen on \(path): the path is \(path.utf8.count) bytes long; a Unix socket path can have at most 107"),
                "stderr: \(r.stderr)")
    }

    @Test func aFileThatIsNotASocketIsNotReplaced() throws {
        let dir = try TempDirectory("notsock")
        let path = try dir.write("authzd.sock", "precious")
        let config = try dir.write("authzd.toml", "[server]\nsocket = \"\(path)\"\n")
        let r = try runCommand(try TestEnvironment.binary("authzd"), ["serve", "--config", config],
                               environment: plainEnvironment(), timeout: 30)
        #expect(r.status == 1)
        #expect(r.stderr.contains("cannot listen on \(path): the path exists and is not a socket"), "stderr: \(r.stderr)")
        #expect((try? String(contentsOfFile: path, encoding: .utf8)) == "precious")
    }
}

// MARK: - Helpers

/// The environment without anything systemd would set (logs go to stderr).
private func plainEnvironment() -> [String: String] {
    var env = ProcessInfo.processInfo.environment
    for k in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "JOURNAL_STREAM", "INVOCATION_ID"] {
        env.removeValue(forKey: k)
    }
    return env
}

/// A client whose ping was answered: the daemon accepted it. Retries, because a connection the
/// test closed a moment ago may not be counted out yet.
private func answeringClient(_ path: String) -> LineClient? {
    var held: LineClient?
    _ = eventually(timeout: 20) {
        guard let c = try? LineClient(path: path, timeout: 10),
              (try? c.ask(ServerEdgeEndToEndTests.ping))?["ok"] == .bool(true) else { return false }
        held = c
        return true
    }
    return held
}

/// A temporary directory another user may read but not write.
private func readableTempDirectory(_ prefix: String) throws -> TempDirectory {
    let dir = try TempDirectory(prefix)
    chmod(dir.path, 0o755)
    return dir
}

/// `authzd serve` as uid/gid 65534 on a configuration whose socket is `socket`.
private func serveAsNobody(_ dir: TempDirectory, socket: String) throws -> CommandResult {
    let name = "authzd-\(UUID().uuidString.prefix(8)).toml"
    let config = try dir.write(name, "[server]\nsocket = \"\(socket)\"\n")
    chmod(config, 0o644)
    let n = ServerEdgeEndToEndTests.nobody
    return try runCommand("/usr/bin/setpriv", ["--reuid=\(n)", "--regid=\(n)", "--clear-groups",
                                               try TestEnvironment.binary("authzd"), "serve", "--config", config],
                          environment: plainEnvironment(), timeout: 30)
}

/// Watches a path from another thread as closely as it can and records its mode and group the
/// first time it exists.
private final class FirstSight: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: (mode: UInt32, gid: UInt32)?
    private let done = DispatchSemaphore(value: 0)

    init(_ path: String) {
        let thread = Thread { [self] in
            let deadline = Date().addingTimeInterval(30)
            var st = stat()
            while Date() < deadline {
                if lstat(path, &st) == 0 {
                    lock.withLock { seen = (UInt32(st.st_mode) & 0o7777, UInt32(st.st_gid)) }
                    break
                }
            }
            done.signal()
        }
        thread.start()
    }

    /// The first mode and group seen; nil if the path never appeared.
    func wait() -> (mode: UInt32, gid: UInt32)? {
        _ = done.wait(timeout: .now() + 40)
        return lock.withLock { seen }
    }
}

/// inotify on a directory: which names were created in it and which were moved into it.
private final class DirectoryWatch {
    struct Event: CustomStringConvertible {
        let name: String
        /// Renamed into the directory (IN_MOVED_TO) rather than created there (IN_CREATE).
        let movedIn: Bool
        var description: String { "\(movedIn ? "moved in" : "created") \(name)" }
    }

    private let fd: Int32

    init(_ directory: String) throws {
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { throw TestFailure("inotify_init1: \(String(cString: strerror(errno)))") }
        guard inotify_add_watch(fd, directory, UInt32(IN_CREATE | IN_MOVED_TO)) >= 0 else {
            // deinit closes `fd` (self is fully initialized here).
            throw TestFailure("inotify_add_watch: \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }

    /// Every event so far.
    func events() -> [Event] {
        var out: [Event] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { return out }
            var at = 0
            while at + 16 <= n {
                let mask = buffer[at + 4..<at + 8].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
                let length = Int(buffer[at + 12..<at + 16].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })
                let nameBytes = buffer[at + 16..<at + 16 + length].prefix { $0 != 0 }
                out.append(Event(name: String(decoding: nameBytes, as: UTF8.self), movedIn: mask & UInt32(IN_MOVED_TO) != 0))
                at += 16 + length
            }
        }
    }
}
