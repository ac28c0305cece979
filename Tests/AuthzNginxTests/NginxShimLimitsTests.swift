import AuthzJSON
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import AuthzNginx

#if canImport(Glibc)
import Glibc
#endif

/// What the shim answers by itself and what it bounds, over real sockets: malformed and oversized
/// subrequests, the timeouts and the connection cap on nginx's side, and an upstream that closes
/// idle connections. No test asserts a time: short timeouts are configured and each wait is bounded
/// generously.
@Suite struct NginxShimLimitsTests {
    typealias Harness = NginxShimTests.Harness

    func ready(_ shim: NginxShim, _ h: Harness) async throws -> Bool {
        try await NginxShimTests().eventually {
            let client = try await HTTPTestClient.connect(to: shim.localAddress!, group: h.group)
            defer { Task { await client.close() } }
            return try await client.send([HTTPTestClient.subrequest(app: "x", path: "/")]).first?.status == .forbidden
        }
    }

    func checks(_ fake: FakeAuthzd) -> [JSONValue] {
        fake.requests.filter { $0["op"]?.stringValue == "check" }
    }

    // MARK: refused by the shim itself

    @Test func malformedMappingHeadersAreAnswered400AndTheConnectionStaysUsable() async throws {
        let h = try Harness()
        let fake = try await h.startFake()
        let shim = try await h.startShim()
        #expect(try await ready(shim, h))
        let before = checks(fake).count
        let client = try await RawTestClient.connect(to: shim.localAddress!, group: h.group)
        // What nginx writes when the app it cut out of a URL held %0D%0A: a second X-Real-IP.
        try await client.send(RawTestClient.subrequest(app: "live", extra: "X-Real-IP: 10.0.0.1\r\n"))
        try await client.send(RawTestClient.subrequest(path: "/a\tb"))
        try await client.send(RawTestClient.subrequest(app: "live%0D%0AX"))
        try await client.send(RawTestClient.subrequest(path: "/fine"))
        #expect(try await client.wait { $0.statuses.count == 4 })
        #expect(client.statuses == [400, 400, 400, 200], "\(client.received)")
        #expect(client.received.contains("x-authz-reason: bad_request"))
        #expect(!client.isClosed)
        #expect(checks(fake).count == before + 1)
        #expect(checks(fake).last?["path"] == "/fine")
        await client.close()
        await h.finish(shim, fake)
    }

    /// `"` is one byte in the head and two in the check line: the head passes the decoder's limit,
    /// the line would not pass authzd's, so the shim answers 431 and never sends it.
    @Test func checkLineOverMaxLineBytesIsAnswered431WithoutReachingAuthzd() async throws {
        let h = try Harness()
        let fake = try await h.startFake(maxLineBytes: 4096)
        let shim = try await h.startShim(connections: 1) { $0.maxLineBytes = 4096 }
        #expect(try await ready(shim, h))
        let before = checks(fake).count
        let client = try await RawTestClient.connect(to: shim.localAddress!, group: h.group)
        try await client.send(RawTestClient.subrequest(extra: "X-Quoted: \(String(repeating: "\"", count: 3000))\r\n"))
        try await client.send(RawTestClient.subrequest(path: "/after"))
        #expect(try await client.wait { $0.statuses.count == 2 })
        #expect(client.statuses == [431, 200], "\(client.received)")
        #expect(client.received.contains("x-authz-reason: line_too_long"))
        #expect(!client.isClosed)
        #expect(checks(fake).count == before + 1)
        #expect(fake.connectionCount == 1)
        await client.close()
        await h.finish(shim, fake)
    }

    @Test func headOverMaxLineBytesIsAnswered431AndTheConnectionClosed() async throws {
        let h = try Harness()
        let fake = try await h.startFake()
        let shim = try await h.startShim { $0.maxLineBytes = 4096 }
        #expect(try await ready(shim, h))
        let client = try await RawTestClient.connect(to: shim.localAddress!, group: h.group)
        try await client.send(RawTestClient.subrequest(extra: "X-Big: \(String(repeating: "a", count: 5000))\r\n"))
        #expect(try await client.wait { $0.isClosed })
        #expect(client.statuses == [431], "\(client.received)")
        #expect(client.received.contains("connection: close"))
        await client.close()
        await h.finish(shim, fake)
    }

    /// When the two limits disagree authzd refuses the line with an answer that has no id. Answers
    /// come in request order, so it is the oldest check's; the checks pipelined behind it on the
    /// same connection keep their own answers and the connection is kept.
    @Test func answerWithoutIdIsTheOldestChecksAndTheOthersKeepTheirs() async throws {
        let h = try Harness()
        let fake = try await h.startFake(maxLineBytes: 2048)
        let shim = try await h.startShim(connections: 1)
        #expect(try await ready(shim, h))
        let results = try await withThrowingTaskGroup(of: (Int, Int, String?).self) { group in
            for i in 0..<40 {
                group.addTask {
                    let client = try await RawTestClient.connect(to: shim.localAddress!, group: h.group)
                    let big = i % 4 == 1 ? "X-Big: \(String(repeating: "b", count: 3000))\r\n" : ""
                    try await client.send(RawTestClient.subrequest(path: "/r\(i)", extra: big))
                    _ = try await client.wait { $0.received.contains("\r\n\r\n") || $0.isClosed }
                    await client.close()
                    let echo = client.received.components(separatedBy: "\r\n").first { $0.hasPrefix("x-echo-path: ") }
                    return (i, client.statuses.first ?? 0, echo.map { String($0.dropFirst(13)) })
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 40)
        for (i, status, echo) in results {
            if i % 4 == 1 {
                #expect(status == 400, "request \(i)")
            } else {
                #expect(status == 200, "request \(i)")
                #expect(echo == "/r\(i)", "request \(i)")
            }
        }
        #expect(fake.connectionCount == 1)
        await h.finish(shim, fake)
    }

    // MARK: the connection to authzd

    /// A JSON object in the right place that is not a check answer (here: no status) fails its own
    /// check closed, with 503; the stream is still aligned, so the connection and the other checks
    /// are unaffected.
    @Test func answerThatIsNotACheckAnswerFailsOnlyItsOwnCheck() async throws {
        let h = try Harness()
        let fake = try await h.startFake()
        let shim = try await h.startShim(connections: 1)
        #expect(try await ready(shim, h))
        let client = try await RawTestClient.connect(to: shim.localAddress!, group: h.group)
        try await client.send(
            RawTestClient.subrequest(path: "/1") + RawTestClient.subrequest(app: "not_an_answer")
                + RawTestClient.subrequest(path: "/3"))
        #expect(try await client.wait { $0.statuses.count == 3 })
        #expect(client.statuses == [200, 503, 200], "\(client.received)")
        #expect(fake.connectionCount == 1)
        await client.close()
        await h.finish(shim, fake)
    }

    /// authzd closes connections it finds idle. The next check must not notice: the connection is
    /// reopened at once and the check waits for it rather than failing. The close is made by the
    /// test (not a timer), so it never lands on a check being written.
    @Test func upstreamClosedWhileIdleIsReopenedWithoutFailingTheNextCheck() async throws {
        let h = try Harness()
        let fake = try await h.startFake()
        let shim = try await h.startShim(connections: 1) { $0.upstreamPingInterval = .seconds(600) }
        #expect(try await ready(shim, h))
        let request = HTTPTestClient.subrequest(app: "live", path: "/", authorization: "Bearer good")
        for round in 1...5 {
            await fake.closeConnections()
            let response = try await NginxShimTests().ask(shim, h.group, request)
            #expect(response?.status == .ok, "round \(round)")
        }
        #expect(fake.connectionCount == 6)
        await h.finish(shim, fake)
    }

    @Test func idleUpstreamConnectionIsPingedSoAuthzdNeverClosesIt() async throws {
        let h = try Harness()
        let fake = try await h.startFake(idleTimeout: .seconds(5))
        let shim = try await h.startShim(connections: 1) { $0.upstreamPingInterval = .milliseconds(100) }
        #expect(try await ready(shim, h))
        let pinged = try await NginxShimTests().eventually {
            fake.requests.filter { $0["op"]?.stringValue == "ping" }.count >= 10
        }
        #expect(pinged)
        #expect(fake.idleClosedCount == 0)
        #expect(fake.connectionCount == 1)
        let response = try await NginxShimTests().ask(shim, h.group, HTTPTestClient.subrequest(app: "live", path: "/", authorization: "Bearer good"))
        #expect(response?.status == .ok)
        await h.finish(shim, fake)
    }

    // MARK: nginx's side: timeouts and the connection cap

    @Test func slowHeaderClientIsClosedAfterTheHeaderTimeout() async throws {
        let h = try Harness()
        let fake = try await h.startFake()
        let shim = try await h.startShim {
            $0.headerTimeout = .milliseconds(300)
            $0.idleTimeout = .seconds(600)
        }
        let client = try await RawTestClient.connect(to: shim.localAddress!, group: h.group)
        // On a loaded machine the bound may pass before this first write: then it fails, and
        // the connection must still be found closed.
        try? await client.send("GET /_authz HTTP/1.1\r\nHost: a\r\nX-")
        // One header byte at a time, as a slow-loris client does; it never finishes the head.
        let closed = try await client.wait(seconds: 30) { c in
            if !c.isClosed { Task { try? await c.send("a") } }
            return c.isClosed
        }
        #expect(closed)
        #expect(client.statuses.isEmpty)
        await client.close()
        await h.finish(shim, fake)
    }

    /// A complete head announcing a body that then trickles in is held to the same bound.
    @Test func slowBodyIsClosedAfterTheHeaderTimeout() async throws {
        let h = try Harness()
        let fake = try await h.startFake()
        let shim = try await h.startShim {
            $0.headerTimeout = .milliseconds(300)
            $0.idleTimeout = .seconds(600)
        }
        let client = try await RawTestClient.connect(to: shim.localAddress!, group: h.group)
        try? await client.send(RawTestClient.subrequest(extra: "Content-Length: 1000000\r\n") + "x")
        let closed = try await client.wait(seconds: 30) { c in
            if !c.isClosed { Task { try? await c.send("x") } }
            return c.isClosed
        }
        #expect(closed)
        #expect(client.statuses.isEmpty)
        await client.close()
        await h.finish(shim, fake)
    }

    @Test func idleClientIsClosedAfterTheIdleTimeout() async throws {
        let h = try Harness()
        let fake = try await h.startFake()
        let shim = try await h.startShim {
            $0.headerTimeout = .seconds(600)
            $0.idleTimeout = .milliseconds(300)
        }
        #expect(try await ready(shim, h))
        let client = try await RawTestClient.connect(to: shim.localAddress!, group: h.group)
        try await client.send(RawTestClient.subrequest())
        #expect(try await client.wait(seconds: 30) { $0.isClosed })
        #expect(client.statuses == [200])
        await client.close()
        await h.finish(shim, fake)
    }

    /// Requests, some pipelined, keep coming for four times the idle timeout: none is cut. They are
    /// sent from the client's event loop, so a busy test process cannot stretch the gaps.
    @Test func clientSendingSteadilyIsNotCutPastTheIdleTimeout() async throws {
        let h = try Harness()
        let fake = try await h.startFake()
        let shim = try await h.startShim {
            $0.headerTimeout = .seconds(2)
            $0.idleTimeout = .seconds(1)
        }
        #expect(try await ready(shim, h))
        let client = try await RawTestClient.connect(to: shim.localAddress!, group: h.group)
        let sent = try await client.sendSteadily(every: .milliseconds(100), rounds: 40) { i in
            String(repeating: RawTestClient.subrequest(path: "/\(i)"), count: i % 5 == 0 ? 4 : 1)
        }
        #expect(sent == 64)
        #expect(try await client.wait(seconds: 60) { $0.statuses.count == sent || $0.isClosed })
        #expect(!client.isClosed)
        #expect(client.statuses == Array(repeating: 200, count: sent))
        await client.close()
        await h.finish(shim, fake)
    }

    @Test func connectionOverTheCapIsClosedAtOnceAndLoggedWithACount() async throws {
        let h = try Harness()
        let fake = try await h.startFake()
        let (logger, log) = CapturingLogHandler.logger()
        let shim = try await h.startShim(logger: logger) { $0.maxConnections = 2 }
        var held: [RawTestClient] = []
        for _ in 0..<2 {
            let c = try await RawTestClient.connect(to: shim.localAddress!, group: h.group)
            // Each answered once, so both are surely counted before the next connects.
            #expect(try await NginxShimTests().eventually {
                try await c.send(RawTestClient.subrequest())
                return try await c.wait(seconds: 5) { $0.statuses.contains(200) || $0.isClosed } && c.statuses.contains(200)
            })
            held.append(c)
        }
        let refused = try await RawTestClient.connect(to: shim.localAddress!, group: h.group)
        try? await refused.send(RawTestClient.subrequest())
        #expect(try await refused.wait { $0.isClosed })
        #expect(refused.statuses.isEmpty)
        let warned = try await NginxShimTests().eventually {
            log.records.contains { $0.level == .warning && $0.message.contains("connection limit") && $0.metadata["refused"] != nil }
        }
        #expect(warned)
        // A slot freed is a slot usable again.
        await held[0].close()
        let again = try await NginxShimTests().eventually {
            let c = try await RawTestClient.connect(to: shim.localAddress!, group: h.group)
            defer { Task { await c.close() } }
            try? await c.send(RawTestClient.subrequest())
            return try await c.wait(seconds: 5) { !$0.statuses.isEmpty || $0.isClosed } && c.statuses == [200]
        }
        #expect(again)
        for c in held { await c.close() }
        await refused.close()
        await h.finish(shim, fake)
    }

    // MARK: the Unix listen socket

    /// A group other than the process's own, so the chown is visible.
    static func otherGroup() -> (name: String, gid: gid_t)? {
        for name in ["www-data", "nogroup", "daemon"] {
            if let g = getgrnam(name), g.pointee.gr_gid != getegid() { return (name, g.pointee.gr_gid) }
        }
        return nil
    }

    @Test func listenGroupAndModeAreGivenToTheUnixSocket() async throws {
        let group = try #require(Self.otherGroup(), "no group other than the process's own on this system")
        let h = try Harness()
        let fake = try await h.startFake()
        let path = h.dir + "/shim.sock"
        let shim = try await h.startShim(listen: .unix(path: path)) {
            $0.listenGroup = group.name
            $0.listenMode = 0o660
        }
        var st = stat()
        #expect(stat(path, &st) == 0)
        #expect(st.st_gid == group.gid)
        #expect(st.st_mode & 0o777 == 0o660)
        await h.finish(shim, fake)
    }

    @Test func unknownListenGroupFailsTheStartWithAClearError() async throws {
        let h = try Harness()
        await #expect(throws: UnknownGroupError.self) {
            _ = try await h.startShim(listen: .unix(path: h.dir + "/shim.sock")) { $0.listenGroup = "no-such-group-\(getpid())" }
        }
        #expect(connectRefused(h.dir + "/shim.sock"))
        await h.finish(nil, nil)
    }

    /// True when nothing accepts connections on the Unix socket `path`.
    func connectRefused(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return r != 0
    }
}
