import AuthzJSON
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import AuthzNginx

/// The shim over real sockets: nginx's side is an HTTP test client, authzd's side `FakeAuthzd`.
@Suite struct NginxShimTests {
    /// A temp directory for the sockets, an event loop group, and cleanup.
    final class Harness: Sendable {
        let dir: String
        let group: MultiThreadedEventLoopGroup

        init(threads: Int = 2) throws {
            // Short path: Unix socket paths are limited to about 100 bytes.
            dir = FileManager.default.temporaryDirectory.appendingPathComponent(
                "anx-\(UUID().uuidString.prefix(8))"
            ).path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        }

        var upstreamPath: String { dir + "/authzd.sock" }

        func startFake(maxLineBytes: Int = 1 << 20, idleTimeout: TimeAmount? = nil) async throws -> FakeAuthzd {
            try await FakeAuthzd.start(path: upstreamPath, group: group, maxLineBytes: maxLineBytes, idleTimeout: idleTimeout)
        }

        /// Starts the shim; `configure` may change any setting of the configuration.
        func startShim(
            listen: ListenAddress = .tcp(host: "127.0.0.1", port: 0), timeout: Duration = .seconds(2), connections: Int = 2,
            logger: Logger? = nil, configure: (inout NginxShim.Configuration) -> Void = { _ in }
        ) async throws -> NginxShim {
            var quiet = Logger(label: "authzd-nginx-test")
            quiet.logLevel = .critical
            var configuration = NginxShim.Configuration(
                upstreamSocketPath: upstreamPath, listen: listen, timeout: timeout, connections: connections)
            configure(&configuration)
            return try await NginxShim.start(configuration: configuration, group: group, logger: logger ?? quiet)
        }

        func finish(_ shim: NginxShim?, _ fake: FakeAuthzd?) async {
            await shim?.stop()
            await fake?.stop()
            try? await group.shutdownGracefully()
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    func ask(_ shim: NginxShim, _ group: EventLoopGroup, _ request: HTTPRequestHead) async throws -> HTTPResponseHead? {
        let client = try await HTTPTestClient.connect(to: shim.localAddress!, group: group)
        defer { Task { await client.close() } }
        return try await client.send([request]).first
    }

    /// Repeats `body` until it is true, a bounded number of times (no time is asserted).
    func eventually(_ body: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<400 {
            if try await body() { return true }
            try await Task.sleep(for: .milliseconds(25))
        }
        return false
    }

    @Test func allowIsAnswered200WithDecisionHeadersAndReason() async throws {
        let h = try Harness()
        let fake = try await h.startFake()
        let shim = try await h.startShim()
        var response: HTTPResponseHead?
        _ = try await eventually {
            response = try await ask(shim, h.group, HTTPTestClient.subrequest(app: "live", path: "/live/rest/v2/x?a=1", authorization: "Bearer good"))
            return response?.status != .serviceUnavailable
        }
        #expect(response?.status == .ok)
        #expect(response?.headers["x-auth-subject"] == ["alice"])
        #expect(response?.headers["x-authz-reason"] == ["ok"])
        #expect(response?.headers["cache-control"] == ["max-age=30"])
        #expect(response?.headers["content-length"] == ["0"])

        let sent = try #require(fake.requests.last)
        #expect(sent["op"] == "check")
        #expect(sent["app"] == "live")
        #expect(sent["remote_addr"] == "192.0.2.10")
        #expect(sent["method"] == "GET")
        #expect(sent["path"] == "/live/rest/v2/x?a=1")
        #expect(sent["headers"] == ["authorization": "Bearer good"])
        #expect(sent["id"]?.numberValue != nil)
        await h.finish(shim, fake)
    }

    @Test func missingCredentialsAreAnswered401WithWWWAuthenticate() async throws {
        let h = try Harness()
        let fake = try await h.startFake()
        let shim = try await h.startShim()
        var response: HTTPResponseHead?
        _ = try await eventually {
            response = try await ask(shim, h.group, HTTPTestClient.subrequest(app: "live", path: "/live/rest/v2/x"))
            return response?.status != .serviceUnavailable
        }
        #expect(response?.status == .unauthorized)
        #expect(response?.headers["www-authenticate"] == [#"Bearer realm="live""#])
        #expect(response?.headers["x-authz-reason"] == ["no_token"])
        #expect(response?.headers["cache-control"] == ["no-store"])
        await h.finish(shim, fake)
    }

    /// SPEC §5 takes the app from X-Authz-App: without it there is nothing to ask, so the shim
    /// answers 400 itself and authzd never sees the request.
    @Test func missingAppIsAnswered400ByTheShimWithoutAskingAuthzd() async throws {
        let h = try Harness()
        let fake = try await h.startFake()
        let shim = try await h.startShim()
        #expect(try await eventually { try await ask(shim, h.group, HTTPTestClient.subrequest(app: "x", path: "/"))?.status == .forbidden })
        let before = fake.requests.count
        let response = try await ask(shim, h.group, HTTPTestClient.subrequest(app: nil, path: "/"))
        #expect(response?.status == .badRequest)
        #expect(response?.headers["x-authz-reason"] == ["bad_request"])
        #expect(response?.headers["cache-control"] == ["no-store"])
        #expect(fake.requests.count == before)
        await h.finish(shim, fake)
    }

    @Test func absentUpstreamIsAnswered503UpstreamUnavailable() async throws {
        let h = try Harness()
        let shim = try await h.startShim()
        let response = try await ask(shim, h.group, HTTPTestClient.subrequest(app: "live", path: "/", authorization: "Bearer good"))
        #expect(response?.status == .serviceUnavailable)
        #expect(response?.headers["x-authz-reason"] == ["upstream_unavailable"])
        #expect(response?.headers["cache-control"] == ["no-store"])
        await h.finish(shim, nil)
    }

    @Test func restartedUpstreamIsUsedAgainWithoutRestartingTheShim() async throws {
        let h = try Harness()
        var fake = try await h.startFake()
        let shim = try await h.startShim()
        let request = HTTPTestClient.subrequest(app: "live", path: "/", authorization: "Bearer good")
        #expect(try await eventually { try await ask(shim, h.group, request)?.status == .ok })

        await fake.stop()
        let whileDown = try await ask(shim, h.group, request)
        #expect(whileDown?.status == .serviceUnavailable)
        #expect(whileDown?.headers["x-authz-reason"] == ["upstream_unavailable"])

        fake = try await h.startFake()
        #expect(try await eventually { try await ask(shim, h.group, request)?.status == .ok })
        await h.finish(shim, fake)
    }

    @Test func pipelinedKeepAliveRequestsAreAnsweredInOrder() async throws {
        let h = try Harness()
        let fake = try await h.startFake()
        let shim = try await h.startShim()
        #expect(try await eventually { try await ask(shim, h.group, HTTPTestClient.subrequest(app: "x", path: "/"))?.status == .forbidden })

        let client = try await HTTPTestClient.connect(to: shim.localAddress!, group: h.group)
        let requests = (0..<8).map { i in
            HTTPTestClient.subrequest(app: i % 3 == 2 ? "other" : "live", path: "/p\(i)", authorization: i % 2 == 0 ? "Bearer good" : nil)
        }
        for round in 0..<2 {
            let responses = try await client.send(requests)
            #expect(responses.count == requests.count, "round \(round)")
            for (i, r) in responses.enumerated() {
                let expected: HTTPResponseStatus = i % 3 == 2 ? .forbidden : (i % 2 == 0 ? .ok : .unauthorized)
                #expect(r.status == expected, "request \(i)")
                if expected == .ok { #expect(r.headers["x-echo-path"] == ["/p\(i)"]) }
            }
        }
        await client.close()
        await h.finish(shim, fake)
    }

    /// A client pipelining far more requests than the shim keeps in flight or queued for one
    /// connection (nginx never does) still gets every answer, in request order, including the
    /// ones the shim answers alone (400) that are ready before the checks ahead of them.
    @Test func longPipelineIsAnsweredInRequestOrder() async throws {
        let h = try Harness()
        let fake = try await h.startFake()
        let shim = try await h.startShim()
        #expect(try await eventually { try await ask(shim, h.group, HTTPTestClient.subrequest(app: "x", path: "/"))?.status == .forbidden })

        let client = try await HTTPTestClient.connect(to: shim.localAddress!, group: h.group)
        let count = 4 * (AuthRequestHandler.maxQueued + AuthRequestHandler.maxChecksInFlight)
        func expected(_ i: Int) -> HTTPResponseStatus {
            i % 5 == 4 ? .badRequest : (i % 3 == 2 ? .forbidden : (i % 2 == 0 ? .ok : .unauthorized))
        }
        let requests = (0..<count).map { i in
            HTTPTestClient.subrequest(
                app: i % 5 == 4 ? nil : (i % 3 == 2 ? "other" : "live"), path: "/p\(i)",
                authorization: i % 2 == 0 ? "Bearer good" : nil)
        }
        let responses = try await client.send(requests)
        #expect(responses.count == count)
        for (i, r) in responses.enumerated() {
            #expect(r.status == expected(i), "request \(i)")
            if expected(i) == .ok { #expect(r.headers["x-echo-path"] == ["/p\(i)"], "request \(i)") }
        }
        // The connection is still usable afterwards.
        let again = try await client.send([HTTPTestClient.subrequest(app: "live", path: "/again", authorization: "Bearer good")])
        #expect(again.first?.status == .ok)
        await client.close()
        await h.finish(shim, fake)
    }

    /// With authzd absent every check fails at once, inside the call that sends it: a long
    /// pipeline is still answered whole and in order (503, and 400 for the shim's own refusals).
    @Test func longPipelineWithAuthzdAbsentIsAnswered503InOrder() async throws {
        let h = try Harness()
        let shim = try await h.startShim()
        let client = try await HTTPTestClient.connect(to: shim.localAddress!, group: h.group)
        let count = 4 * (AuthRequestHandler.maxQueued + AuthRequestHandler.maxChecksInFlight)
        let requests = (0..<count).map { i in
            HTTPTestClient.subrequest(app: i % 7 == 6 ? nil : "live", path: "/p\(i)", authorization: "Bearer good")
        }
        let responses = try await client.send(requests)
        #expect(responses.count == count)
        for (i, r) in responses.enumerated() {
            #expect(r.status == (i % 7 == 6 ? .badRequest : .serviceUnavailable), "request \(i)")
        }
        await client.close()
        await h.finish(shim, nil)
    }

    @Test func manyConcurrentClientsEachGetTheirOwnAnswer() async throws {
        let h = try Harness(threads: 4)
        let fake = try await h.startFake()
        let shim = try await h.startShim(connections: 4)
        #expect(try await eventually { try await ask(shim, h.group, HTTPTestClient.subrequest(app: "x", path: "/"))?.status == .forbidden })

        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for c in 0..<48 {
                group.addTask {
                    let client = try await HTTPTestClient.connect(to: shim.localAddress!, group: h.group)
                    var wrong = 0
                    for i in 0..<5 {
                        let good = (c + i) % 2 == 0
                        let path = "/client\(c)/req\(i)"
                        let r = try await client.send([HTTPTestClient.subrequest(app: "live", path: path, authorization: good ? "Bearer good" : "Bearer bad")]).first
                        if good {
                            if r?.status != .ok || r?.headers["x-echo-path"] != [path] { wrong += 1 }
                        } else if r?.status != .unauthorized {
                            wrong += 1
                        }
                    }
                    await client.close()
                    return wrong
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(mismatches == 0)
        await h.finish(shim, fake)
    }

    @Test func silentUpstreamIsAnswered503AfterTheTimeout() async throws {
        let h = try Harness()
        let fake = try await h.startFake()
        let shim = try await h.startShim(timeout: .milliseconds(100), connections: 1)
        #expect(try await eventually { try await ask(shim, h.group, HTTPTestClient.subrequest(app: "x", path: "/"))?.status == .forbidden })
        let response = try await ask(shim, h.group, HTTPTestClient.subrequest(app: "silent", path: "/"))
        #expect(response?.status == .serviceUnavailable)
        #expect(response?.headers["x-authz-reason"] == ["upstream_unavailable"])
        await h.finish(shim, fake)
    }

    @Test func connectionDroppedWithRequestInFlightIsAnswered503AndReplaced() async throws {
        let h = try Harness()
        let fake = try await h.startFake()
        let shim = try await h.startShim(connections: 1)
        let good = HTTPTestClient.subrequest(app: "live", path: "/", authorization: "Bearer good")
        #expect(try await eventually { try await ask(shim, h.group, good)?.status == .ok })
        let dropped = try await ask(shim, h.group, HTTPTestClient.subrequest(app: "drop", path: "/"))
        #expect(dropped?.status == .serviceUnavailable)
        #expect(dropped?.headers["x-authz-reason"] == ["upstream_unavailable"])
        #expect(try await eventually { try await ask(shim, h.group, good)?.status == .ok })
        await h.finish(shim, fake)
    }

    /// An answer whose echoed id is not the oldest one pending means the stream is out of step:
    /// it must not be handed to anyone (here it would even allow), and the connection is renewed.
    @Test func answerWithAnotherIdIsRefusedAnd503AndTheConnectionReplaced() async throws {
        let h = try Harness()
        let fake = try await h.startFake()
        let shim = try await h.startShim(connections: 1)
        let good = HTTPTestClient.subrequest(app: "live", path: "/", authorization: "Bearer good")
        #expect(try await eventually { try await ask(shim, h.group, good)?.status == .ok })
        let response = try await ask(shim, h.group, HTTPTestClient.subrequest(app: "wrong_id", path: "/"))
        #expect(response?.status == .serviceUnavailable)
        #expect(response?.headers["x-authz-reason"] == ["upstream_unavailable"])
        #expect(try await eventually { try await ask(shim, h.group, good)?.status == .ok })
        await h.finish(shim, fake)
    }

    @Test func unixListenSocketServesAndCloseIsHonoured() async throws {
        let h = try Harness()
        let fake = try await h.startFake()
        let shim = try await h.startShim(listen: .unix(path: h.dir + "/shim.sock"))
        let address = try SocketAddress(unixDomainSocketPath: h.dir + "/shim.sock")
        #expect(
            try await eventually {
                let client = try await HTTPTestClient.connect(to: address, group: h.group)
                defer { Task { await client.close() } }
                return try await client.send([HTTPTestClient.subrequest(app: "x", path: "/")]).first?.status == .forbidden
            })
        let client = try await HTTPTestClient.connect(to: address, group: h.group)
        let responses = try await client.send([
            HTTPTestClient.subrequest(app: "live", path: "/", authorization: "Bearer good", keepAlive: false)
        ])
        #expect(responses.first?.status == .ok)
        #expect(responses.first?.headers["connection"] == ["close"])
        await client.close()
        await h.finish(shim, fake)
    }
}
