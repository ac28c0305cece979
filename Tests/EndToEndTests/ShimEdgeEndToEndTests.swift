import AuthzJSON
import Foundation
import Testing

/// authzd-nginx where hostile or careless input arrives (issue 9), each test with the real binaries:
/// the shim as an unprivileged user over TCP and over a Unix socket, subrequests it must refuse
/// itself, oversized requests next to legitimate load (directly and through real nginx), and the
/// timeouts and connection cap on nginx's side. No test asserts a time: short timeouts are
/// configured and waits are bounded generously.
@Suite("authzd-nginx edges end to end")
struct ShimEdgeEndToEndTests {
    static let apps: [String: String] = ["LiveApp": NginxEndToEndTests.jwtApp(secret: NginxEndToEndTests.liveSecret)]
    static let listPath = "/LiveApp/rest/v2/broadcasts/list"

    /// A temp directory other users can traverse, and an authzd in it whose socket the group
    /// `socketGroup` may use (the shim's group when it runs unprivileged).
    static func daemon(_ dir: TempDirectory, socketGroup: String = "nogroup", maxLineBytes: Int? = nil) throws -> DaemonUnderTest {
        chmod(dir.path, 0o755)
        let socket = dir.file("authzd.sock")
        var main = "[server]\nsocket = \"\(socket)\"\nsocket_mode = \"0660\"\nsocket_group = \"\(socketGroup)\"\n"
        if let maxLineBytes { main += "max_line_bytes = \(maxLineBytes)\n" }
        return try DaemonUnderTest(main: main, apps: apps, socketPath: socket)
    }

    /// A subrequest as nginx writes it for `GET /LiveApp/rest/v2/broadcasts/list`.
    static func subrequest(token: String?, app: String = "LiveApp", ip: String = "127.0.0.1", extra: [UInt8] = [],
                           close: Bool = true) -> [UInt8] {
        var head = "GET /_authz HTTP/1.1\r\nHost: authzd_nginx\r\nX-Original-URI: \(listPath)\r\nX-Original-Method: GET\r\n"
        head += "X-Real-IP: \(ip)\r\nX-Authz-App: \(app)\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        if close { head += "Connection: close\r\n" }
        return Array(head.utf8) + extra + Array("\r\n".utf8)
    }

    /// Header lines holding `count` bytes 0xFF in all, in lines short enough for nginx's default
    /// 8k header buffers. Each such byte becomes U+FFFD (three bytes) in the check line.
    static func nonASCIIHeaders(count: Int, perLine: Int = 7000) -> [UInt8] {
        var out: [UInt8] = []
        var left = count
        var n = 0
        while left > 0 {
            let k = min(perLine, left)
            out += Array("X-Junk-\(n): ".utf8) + [UInt8](repeating: 0xFF, count: k) + Array("\r\n".utf8)
            left -= k
            n += 1
        }
        return out
    }

    // MARK: running unprivileged

    @Test func nonRootShimOverTCPGetsRealDecisionsFromAuthzd() throws {
        let dir = try TempDirectory("shimtcp")
        let daemon = try Self.daemon(dir)
        let shim = try ShimUnderTest(upstream: daemon.socketPath, dir: dir, user: .nobody)
        #expect(shim.uid == 65534)
        let token = try mintToken(secret: NginxEndToEndTests.liveSecret, claims: ["sub=alice"], expiresIn: 300)
        var allowed: HTTPExchange.Response?
        _ = eventually(timeout: 20) {
            allowed = try? HTTPExchange.once(port: shim.port, Self.subrequest(token: token))
            return allowed?.status == 200
        }
        #expect(allowed?.status == 200, "\(shim.process.log)")
        #expect(allowed?.header("x-auth-subject") == "alice")
        #expect(allowed?.header("x-authz-reason") == "ok")
        let noToken = try HTTPExchange.once(port: shim.port, Self.subrequest(token: nil))
        #expect(noToken?.status == 401)
        #expect(noToken?.header("x-authz-reason") == "no_token")
        let elsewhere = try HTTPExchange.once(port: shim.port, Self.subrequest(token: token, ip: "192.0.2.7"))
        #expect(elsewhere?.status == 403)
        #expect(elsewhere?.header("x-authz-reason") == "ip_not_allowed")
        #expect(!shim.process.log.contains("cannot reach authzd"), "\(shim.process.log)")
    }

    /// As the shipped unit runs it: an unprivileged shim on a Unix socket given nginx's group. A
    /// member of that group gets answers; another unprivileged user cannot even connect.
    @Test func nonRootShimOnAUnixSocketServesItsListenGroupOnly() throws {
        let dir = try TempDirectory("shimunix")
        let daemon = try Self.daemon(dir)
        let run = dir.file("run")
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        chown(run, 65534, 65534)
        chmod(run, 0o755)
        let socket = run + "/authzd-nginx.sock"
        let shim = try ShimUnderTest(
            upstream: daemon.socketPath, dir: dir, user: ShimUnderTest.User(uid: 65534, gid: 65534, groups: [33]),
            unixSocket: socket, arguments: ["--listen-group", "www-data", "--listen-mode", "0660"])
        #expect(shim.uid == 65534)
        // The socket accepts from bind on; its group and mode are given right after.
        var st = stat()
        #expect(eventually(timeout: 20) { stat(socket, &st) == 0 && st.st_gid == 33 && st.st_mode & 0o777 == 0o660 })
        #expect(st.st_uid == 65534)
        #expect(st.st_gid == 33)
        #expect(st.st_mode & 0o777 == 0o660)

        let token = try mintToken(secret: NginxEndToEndTests.liveSecret, claims: ["sub=alice"], expiresIn: 300)
        func curl(as user: ShimUnderTest.User, token: String?) throws -> CommandResult {
            var args = user.setprivArguments + [Curl.executable, "-sS", "-i", "--max-time", "20", "--unix-socket", socket,
                                                "-H", "X-Authz-App: LiveApp", "-H", "X-Real-IP: 127.0.0.1",
                                                "-H", "X-Original-URI: \(Self.listPath)", "-H", "X-Original-Method: GET"]
            if let token { args += ["-H", "Authorization: Bearer \(token)"] }
            return try runCommand(ShimUnderTest.setpriv, args + ["http://authzd_nginx/_authz"])
        }
        let wwwData = ShimUnderTest.User(uid: 33, gid: 33)
        var allowed: CurlResponse?
        _ = eventually(timeout: 20) {
            allowed = (try? curl(as: wwwData, token: token)).flatMap { try? CurlResponse(curlOutput: $0.stdout) }
            return allowed?.status == 200
        }
        #expect(allowed?.status == 200, "\(shim.process.log)")
        #expect(allowed?.header("X-Auth-Subject") == "alice")
        let denied = try CurlResponse(curlOutput: try curl(as: wwwData, token: nil).stdout)
        #expect(denied.status == 401)
        // uid 1 (daemon) is neither the socket's owner nor in its group: connect() is refused.
        let stranger = try curl(as: ShimUnderTest.User(uid: 1, gid: 1), token: token)
        #expect(stranger.status == 7, "curl: \(stranger.stderr)")
        #expect(stranger.stderr.contains("Permission denied") || stranger.stderr.contains("Couldn't connect"))
    }

    // MARK: refused by the shim

    @Test func malformedMappingHeadersAreAnswered400WithoutAskingAuthzd() throws {
        let dir = try TempDirectory("shimbad")
        let daemon = try Self.daemon(dir)
        let shim = try ShimUnderTest(upstream: daemon.socketPath, dir: dir)
        let token = try mintToken(secret: NginxEndToEndTests.liveSecret, claims: ["sub=alice"], expiresIn: 300)
        #expect(eventually(timeout: 20) { (try? HTTPExchange.once(port: shim.port, Self.subrequest(token: token)))?.status == 200 })
        let before = try daemon.stats()
        // No app; an app cut from a URL holding "%0D%0A"; an injected second X-Real-IP; a tab in the URI.
        var noApp = Self.subrequest(token: token)
        noApp = Array(String(decoding: noApp, as: UTF8.self).replacingOccurrences(of: "X-Authz-App: LiveApp\r\n", with: "").utf8)
        let cases: [[UInt8]] = [
            noApp,
            Self.subrequest(token: token, app: "LiveApp%0D%0AX-Real-IP:%2010.0.0.1"),
            Self.subrequest(token: token, extra: Array("X-Real-IP: 10.1.2.3\r\n".utf8)),
            Self.subrequest(token: token, extra: Array("X-Original-URI: /LiveApp/rest/v2/a\tb\r\n".utf8)),
        ]
        for (i, request) in cases.enumerated() {
            let r = try HTTPExchange.once(port: shim.port, request)
            #expect(r?.status == 400, "case \(i)")
            #expect(r?.header("x-authz-reason") == "bad_request", "case \(i)")
        }
        // authzd never saw them: none of its counts moved.
        let after = try daemon.stats()
        #expect(before["apps"] != nil)
        for key in ["apps", "bad_requests", "unknown_app_denied"] {
            #expect(before[key] == after[key], "\(key): before \(before.jsonString)\nafter \(after.jsonString)")
        }
    }

    // MARK: oversized requests next to legitimate load

    /// Legitimate checks run on several connections while oversized ones (40,000 bytes 0xFF, a check
    /// line of about 120,000 bytes) arrive between them: every legitimate one is allowed, with and
    /// without the attack, and every oversized one gets 431 from the shim without reaching authzd.
    @Test func oversizedChecksGet431AndLegitimateOnesAllPass() throws {
        let dir = try TempDirectory("shimbig")
        let daemon = try Self.daemon(dir)
        let shim = try ShimUnderTest(upstream: daemon.socketPath, dir: dir)
        let token = try mintToken(secret: NginxEndToEndTests.liveSecret, claims: ["sub=alice"], expiresIn: 300)
        #expect(eventually(timeout: 20) { (try? HTTPExchange.once(port: shim.port, Self.subrequest(token: token)))?.status == 200 })
        let legit = Self.subrequest(token: token)
        let big = Self.subrequest(token: token, extra: Self.nonASCIIHeaders(count: 40_000))

        let quiet = Load.run(clients: 8, requestsEach: 40, request: legit, port: shim.port)
        #expect(quiet.statuses == [200: 320], "\(shim.process.log)")

        let attacked = Load.run(clients: 8, requestsEach: 40, request: legit, port: shim.port,
                                attack: (request: big, count: 60))
        #expect(attacked.statuses == [200: 320], "\(shim.process.log)")
        #expect(attacked.attackStatuses == [431: 60])
        #expect(!shim.process.log.contains("connection to authzd lost"), "\(shim.process.log)")
        #expect(!shim.process.log.contains("unusable answer"), "\(shim.process.log)")
    }

    /// With a shim limit above authzd's (a misconfiguration), an oversized line does reach authzd,
    /// which answers `line_too_long` without an id. That answer is the oversized check's own; the
    /// legitimate checks pipelined on the same connections keep theirs and nothing reconnects.
    @Test func limitsThatDisagreeCostOnlyTheOversizedChecks() throws {
        let dir = try TempDirectory("shimmis")
        let daemon = try Self.daemon(dir, maxLineBytes: 8192)
        let shim = try ShimUnderTest(upstream: daemon.socketPath, dir: dir, arguments: ["--connections", "1"])
        let token = try mintToken(secret: NginxEndToEndTests.liveSecret, claims: ["sub=alice"], expiresIn: 300)
        #expect(eventually(timeout: 20) { (try? HTTPExchange.once(port: shim.port, Self.subrequest(token: token)))?.status == 200 })
        let big = Self.subrequest(token: token, extra: Array("X-Big: \(String(repeating: "b", count: 20_000))\r\n".utf8))
        let result = Load.run(clients: 8, requestsEach: 40, request: Self.subrequest(token: token), port: shim.port,
                              attack: (request: big, count: 60))
        #expect(result.statuses == [200: 320], "\(shim.process.log)")
        #expect(result.attackStatuses == [400: 60])
        #expect(!shim.process.log.contains("connection to authzd lost"), "\(shim.process.log)")
        #expect(shim.process.log.contains("--max-line-bytes"), "the disagreement is logged: \(shim.process.log)")
    }

    /// The issue's attack through real nginx: requests with about 21 KB of non-ASCII header bytes
    /// (each line within nginx's 8k buffers) while legitimate ones run. nginx turns the shim's 431
    /// into 500 for the client ("auth request unexpected status: 431"); the legitimate requests
    /// all reach the upstream.
    @Test func oversizedRequestsThroughNginxGet500AndLegitimateOnesAllPass() throws {
        let stack = try NginxStack(apps: Self.apps)
        let token = try mintToken(secret: NginxEndToEndTests.liveSecret, claims: ["sub=alice"], expiresIn: 300)
        func request(_ extra: [UInt8]) -> [UInt8] {
            Array("GET \(Self.listPath) HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(token)\r\nConnection: close\r\n".utf8)
                + extra + Array("\r\n".utf8)
        }
        let port = stack.nginx.port
        #expect(eventually(timeout: 20) { (try? HTTPExchange.once(port: port, request([])))?.status == 200 }, "\(stack.logs)")
        let big = request(Self.nonASCIIHeaders(count: 22_500, perLine: 7500))
        let quiet = Load.run(clients: 6, requestsEach: 30, request: request([]), port: port)
        #expect(quiet.statuses == [200: 180], "\(stack.logs)")
        let attacked = Load.run(clients: 6, requestsEach: 30, request: request([]), port: port, attack: (request: big, count: 60))
        #expect(attacked.statuses == [200: 180], "\(stack.logs)")
        #expect(attacked.attackStatuses == [500: 60], "\(stack.logs)")
        #expect(stack.nginx.errorLog.contains("auth request unexpected status: 431"), "\(stack.nginx.errorLog)")
        #expect(!stack.shimProcess.log.contains("connection to authzd lost"), "\(stack.logs)")
    }

    // MARK: timeouts and the connection cap

    @Test(arguments: [
        (["--max-line-bytes", "100"], "--max-line-bytes"),
        (["--header-timeout", "0"], "--header-timeout"),
        (["--idle-timeout", "nan"], "--idle-timeout"),
        (["--max-connections", "0"], "--max-connections"),
        (["--upstream-ping-interval", "-1"], "--upstream-ping-interval"),
        (["--listen-group", ""], "--listen-group"),
    ])
    func badLimitValuesAreRefusedNamingTheFlag(arguments: [String], flag: String) throws {
        let r = try runCommand(try TestEnvironment.binary("authzd-nginx"),
                               ["--upstream", "/nonexistent.sock", "--listen", "127.0.0.1:0"] + arguments)
        #expect(r.status != 0)
        #expect(r.stderr.contains(flag), "stderr: \(r.stderr)")
    }

    @Test func slowAndIdleConnectionsAreClosedWhileSteadyOnesStayOpen() throws {
        let dir = try TempDirectory("shimtime")
        let daemon = try Self.daemon(dir)
        let shim = try ShimUnderTest(upstream: daemon.socketPath, dir: dir,
                                     arguments: ["--header-timeout", "1", "--idle-timeout", "2"])
        let token = try mintToken(secret: NginxEndToEndTests.liveSecret, claims: ["sub=alice"], expiresIn: 300)
        #expect(eventually(timeout: 20) { (try? HTTPExchange.once(port: shim.port, Self.subrequest(token: token)))?.status == 200 })

        // A head that never completes, one byte at a time.
        let slow = try TCPConnection(port: shim.port)
        try slow.send(Array("GET /_authz HTTP/1.1\r\nX-".utf8))
        #expect(eventually(timeout: 30) {
            try? slow.send([UInt8(ascii: "a")])
            return slow.closedByPeer(wait: 0.1)
        })

        // One request, then silence.
        let idle = try TCPConnection(port: shim.port)
        try idle.send(Self.subrequest(token: token, close: false))
        #expect(idle.readResponseStatus() == 200)
        #expect(eventually(timeout: 30) { idle.closedByPeer(wait: 0.1) })

        // A request every 100 ms for twice the idle timeout and more, some pipelined.
        let steady = try TCPConnection(port: shim.port)
        var statuses: [Int] = []
        for i in 0..<40 {
            let batch = i % 5 == 0 ? 3 : 1
            try steady.send(Array([[UInt8]](repeating: Self.subrequest(token: token, close: false), count: batch).joined()))
            for _ in 0..<batch { statuses.append(steady.readResponseStatus() ?? 0) }
            usleep(100_000)
        }
        #expect(statuses == Array(repeating: 200, count: statuses.count))
        #expect(statuses.count == 56)
    }

    @Test func connectionsOverTheCapAreClosedAndLogged() throws {
        let dir = try TempDirectory("shimcap")
        let daemon = try Self.daemon(dir)
        let shim = try ShimUnderTest(upstream: daemon.socketPath, dir: dir, arguments: ["--max-connections", "3"])
        let token = try mintToken(secret: NginxEndToEndTests.liveSecret, claims: ["sub=alice"], expiresIn: 300)
        #expect(eventually(timeout: 20) { (try? HTTPExchange.once(port: shim.port, Self.subrequest(token: token)))?.status == 200 })
        var held: [TCPConnection] = []
        for _ in 0..<3 {
            let c = try TCPConnection(port: shim.port)
            try c.send(Self.subrequest(token: token, close: false))
            #expect(c.readResponseStatus() == 200)
            held.append(c)
        }
        for _ in 0..<5 {
            let over = try TCPConnection(port: shim.port)
            try? over.send(Self.subrequest(token: token, close: false))
            #expect(over.readResponseStatus() == nil)
            #expect(over.closedByPeer(wait: 20))
        }
        #expect(eventually(timeout: 20) { shim.process.log.contains("connection limit reached") }, "\(shim.process.log)")
        // The held ones still work, and a freed slot is usable again.
        try held[1].send(Self.subrequest(token: token, close: false))
        #expect(held[1].readResponseStatus() == 200)
        held.removeFirst()
        #expect(eventually(timeout: 20) { (try? HTTPExchange.once(port: shim.port, Self.subrequest(token: token)))?.status == 200 })
    }
}

// MARK: - blocking HTTP/1.1 over TCP, for many concurrent clients

/// A blocking TCP connection to 127.0.0.1 with a receive timeout, for raw HTTP exchanges.
final class TCPConnection: @unchecked Sendable {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, timeout: Int = 20) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket() failed") }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard r == 0 else {
            // deinit closes fd: it runs when an initializer throws after every property is set,
            // and closing twice could close a descriptor another test has opened since.
            throw TestFailure("connect to port \(port) failed: \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw TestFailure("send failed: \(String(cString: strerror(errno)))") }
            sent += n
        }
    }

    /// Reads more bytes; false on EOF, reset or timeout.
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return false }
        buffer += chunk[0..<n]
        return true
    }

    /// Reads one response (head, then a Content-Length body) and returns it; nil when the
    /// connection ended first.
    func readResponse() -> HTTPExchange.Response? {
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while headEnd == nil {
            if let i = buffer.firstRange(of: end)?.lowerBound {
                headEnd = i
            } else if !fill() {
                return nil
            }
        }
        let head = String(decoding: buffer[..<headEnd!], as: UTF8.self)
        guard var response = HTTPExchange.Response(head: head) else { return nil }
        let length = Int(response.header("content-length") ?? "0") ?? 0
        while buffer.count < headEnd! + 4 + length {
            if !fill() { return nil }
        }
        response.body = Array(buffer[(headEnd! + 4)..<(headEnd! + 4 + length)])
        buffer.removeFirst(headEnd! + 4 + length)
        return response
    }

    func readResponseStatus() -> Int? { readResponse()?.status }

    /// True when the peer closed (EOF or reset) within `wait` seconds and sent nothing more.
    func closedByPeer(wait: Double) -> Bool {
        var tv = timeval(tv_sec: Int(wait), tv_usec: Int((wait - Double(Int(wait))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var b: UInt8 = 0
        let n = recv(fd, &b, 1, 0)
        return n == 0 || (n < 0 && errno == ECONNRESET)
    }
}

enum HTTPExchange {
    struct Response {
        let status: Int
        let headers: [(name: String, value: String)]
        var body: [UInt8] = []

        init?(head: String) {
            var lines = head.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst().split(separator: " ")
            guard statusLine.count >= 2, let code = Int(statusLine[1]) else { return nil }
            status = code
            headers = lines.compactMap { line in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
        }

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    /// One request on a fresh connection; nil when the server closed without answering.
    static func once(port: Int, _ request: [UInt8]) throws -> Response? {
        let c = try TCPConnection(port: port)
        try c.send(request)
        return c.readResponse()
    }
}

/// Concurrent clients, each on its own thread with its own connections, and optionally an
/// attacker thread sending oversized requests at the same time.
enum Load {
    struct Result {
        /// Status of every legitimate request, counted (0: no answer).
        var statuses: [Int: Int] = [:]
        var attackStatuses: [Int: Int] = [:]
    }

    static func run(clients: Int, requestsEach: Int, request: [UInt8], port: Int,
                    attack: (request: [UInt8], count: Int)? = nil) -> Result {
        let tally = Tally()
        let group = DispatchGroup()
        for _ in 0..<clients {
            group.enter()
            Thread {
                for _ in 0..<requestsEach {
                    tally.record((try? HTTPExchange.once(port: port, request))?.status ?? 0, attack: false)
                }
                group.leave()
            }.start()
        }
        if let attack {
            // Two attackers, so oversized requests overlap legitimate ones on the shim's connections.
            for share in [attack.count / 2, attack.count - attack.count / 2] {
                group.enter()
                Thread {
                    for _ in 0..<share {
                        tally.record((try? HTTPExchange.once(port: port, attack.request))?.status ?? 0, attack: true)
                    }
                    group.leave()
                }.start()
            }
        }
        group.wait()
        return tally.result
    }

    /// The counts, shared by the client threads.
    final class Tally: @unchecked Sendable {
        private let lock = NSLock()
        private var counts = Result()

        @Sendable func record(_ status: Int, attack: Bool) {
            lock.lock()
            if attack { counts.attackStatuses[status, default: 0] += 1 } else { counts.statuses[status, default: 0] += 1 }
            lock.unlock()
        }

        var result: Result {
            lock.lock()
            defer { lock.unlock() }
            return counts
        }
    }
}
