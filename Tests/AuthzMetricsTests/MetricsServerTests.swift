import AuthzCore
@testable import AuthzMetrics
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// The listener on a real loopback socket, driven by a raw client.
@Suite struct MetricsServerTests {
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    struct Unhealthy: Error, CustomStringConvertible {
        var description: String { "authzd is away" }
    }

    /// Runs `body` against a started listener on a free loopback port, then stops it.
    static func withServer(limits: MetricsServer.Limits = .init(), health: MetricsServer.HealthCheck? = nil,
                           _ body: (SocketAddress, EventLoopGroup) async throws -> Void) async throws {
        let server = MetricsServer(listen: .tcp(host: "127.0.0.1", port: 0), limits: limits, logger: logger,
                                   exposition: { Array("authzd_up 1\n".utf8) }, health: health)
        try await server.start()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            try await body(try #require(server.localAddress), group)
        } catch {
            await server.stop()
            try? await group.shutdownGracefully()
            throw error
        }
        await server.stop()
        try await group.shutdownGracefully()
    }

    @Test func getMetricsAnswersTheExpositionWithItsContentType() async throws {
        try await Self.withServer { address, group in
            let c = try await RawHTTPClient.connect(to: address, group: group)
            try await c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await c.wait { text, _ in text.hasSuffix("authzd_up 1\n") })
            let text = c.received
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(text.lowercased().contains("content-type: text/plain; version=0.0.4; charset=utf-8\r\n"))
            #expect(text.lowercased().contains("content-length: 12\r\n"))
            await c.close()
        }
    }

    @Test func keepAliveServesSeveralRequestsInOrderOnOneConnection() async throws {
        try await Self.withServer { address, group in
            let c = try await RawHTTPClient.connect(to: address, group: group)
            try await c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nPOST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await c.wait { text, _ in text.contains("404 Not Found") })
            let text = c.received
            let ok = try #require(text.range(of: "200 OK")), refused = try #require(text.range(of: "405 Method Not Allowed"))
            #expect(ok.lowerBound < refused.lowerBound)
            #expect(text.lowercased().contains("allow: get, head\r\n"))
            #expect(!c.isClosed)
            await c.close()
        }
    }

    @Test func connectionCloseIsHonoured() async throws {
        try await Self.withServer { address, group in
            let c = try await RawHTTPClient.connect(to: address, group: group)
            try await c.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(await c.wait { text, closed in closed && text.hasSuffix("authzd_up 1\n") })
        }
    }

    @Test func connectionsOverTheCapAreClosedAtOnce() async throws {
        var limits = MetricsServer.Limits()
        limits.maxConnections = 2
        try await Self.withServer(limits: limits) { address, group in
            let a = try await RawHTTPClient.connect(to: address, group: group)
            let b = try await RawHTTPClient.connect(to: address, group: group)
            // Both are accepted and served before the third arrives.
            for c in [a, b] {
                try await c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(await c.wait { text, _ in text.hasSuffix("authzd_up 1\n") })
            }
            let over = try await RawHTTPClient.connect(to: address, group: group)
            #expect(await over.wait { _, closed in closed })
            #expect(over.received.isEmpty)
            // Closing one makes room again.
            await a.close()
            #expect(await Self.eventuallyServed(address: address, group: group))
            await b.close()
        }
    }

    static func eventuallyServed(address: SocketAddress, group: EventLoopGroup) async -> Bool {
        for _ in 0..<100 {
            if let c = try? await RawHTTPClient.connect(to: address, group: group) {
                try? await c.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                let served = await c.wait(seconds: 1) { text, closed in closed || text.hasSuffix("authzd_up 1\n") }
                let ok = served && c.received.hasSuffix("authzd_up 1\n")
                await c.close()
                if ok { return true }
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    @Test func aSilentOrTricklingConnectionIsClosedAfterTheRequestTimeout() async throws {
        var limits = MetricsServer.Limits()
        limits.requestTimeout = .milliseconds(300)
        try await Self.withServer(limits: limits) { address, group in
            let silent = try await RawHTTPClient.connect(to: address, group: group)
            let trickling = try await RawHTTPClient.connect(to: address, group: group)
            // Writes may fail once the server has closed (on a loaded machine the timeout can
            // pass between them); what counts is that both connections end up closed.
            try? await trickling.send("GET /met")
            try await Task.sleep(for: .milliseconds(150))
            try? await trickling.send("rics HTTP/1.1\r\n")
            #expect(await silent.wait { _, closed in closed })
            #expect(await trickling.wait { _, closed in closed })
            #expect(trickling.received.isEmpty)
        }
    }

    @Test func anOversizedHeadIsRefusedAndTheConnectionClosed() async throws {
        var limits = MetricsServer.Limits()
        limits.maxHeadBytes = 1024
        try await Self.withServer(limits: limits) { address, group in
            let c = try await RawHTTPClient.connect(to: address, group: group)
            try await c.send("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 4096) + "\r\n\r\n")
            #expect(await c.wait { _, closed in closed })
            #expect(c.received.hasPrefix("HTTP/1.1 4"))
            #expect(!c.received.contains("authzd_up"))
        }
    }

    @Test func garbageGets400AndAClose() async throws {
        try await Self.withServer { address, group in
            let c = try await RawHTTPClient.connect(to: address, group: group)
            try await c.send("\u{1}\u{2}not http at all\r\n\r\n")
            #expect(await c.wait { _, closed in closed })
            #expect(c.received.hasPrefix("HTTP/1.1 400"))
        }
    }

    @Test func healthAnswers200WhenTheCheckSucceedsAnd503WithWhyWhenItFails() async throws {
        let healthy = NIOLockedValueBoxBool(true)
        let check: MetricsServer.HealthCheck = { loop in
            healthy.value ? loop.makeSucceededVoidFuture() : loop.makeFailedFuture(Unhealthy())
        }
        try await Self.withServer(health: check) { address, group in
            let c = try await RawHTTPClient.connect(to: address, group: group)
            try await c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await c.wait { text, _ in text.hasSuffix("ok\n") })
            #expect(c.received.hasPrefix("HTTP/1.1 200 OK"))
            healthy.value = false
            let d = try await RawHTTPClient.connect(to: address, group: group)
            try await d.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await d.wait { text, _ in text.hasSuffix("unhealthy: authzd is away\n") })
            #expect(d.received.hasPrefix("HTTP/1.1 503 Service Unavailable"))
            await c.close()
            await d.close()
        }
    }

    @Test func aUnixListenerGetsMode0660AndIsRemovedOnStop() async throws {
        let path = "/tmp/authzd-metrics-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        let server = MetricsServer(listen: .unix(path: path), logger: Self.logger, exposition: { [] })
        try await server.start()
        var st = stat()
        #expect(lstat(path, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o660)
        await server.stop()
        #expect(lstat(path, &st) != 0)
    }

    @Test func aLiveUnixListenerIsNeverTakenOverButAStaleSocketIs() async throws {
        let path = "/tmp/authzd-metrics-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        let first = MetricsServer(listen: .unix(path: path), logger: Self.logger, exposition: { [] })
        try await first.start()
        let second = MetricsServer(listen: .unix(path: path), logger: Self.logger, exposition: { [] })
        await #expect(throws: MetricsServer.StartError.self) { try await second.start() }
        await first.stop()
        // A socket file nobody listens on (as a crashed process leaves) is replaced.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        close(fd)
        #expect(bound == 0)
        try await second.start()
        // The new listener answers there.
        #expect(MetricsServer.unixPathProblem(path)?.contains("another process is listening") == true)
        await second.stop()
        // A path that is not a socket is left alone.
        #expect(FileManager.default.createFile(atPath: path, contents: Data("keep".utf8)))
        let third = MetricsServer(listen: .unix(path: path), logger: Self.logger, exposition: { [] })
        await #expect(throws: MetricsServer.StartError.self) { try await third.start() }
        #expect(FileManager.default.contents(atPath: path) == Data("keep".utf8))
        unlink(path)
    }

    @Test func startingOnAnAddressInUseSaysWhere() async throws {
        try await Self.withServer { address, _ in
            let port = try #require(address.port)
            let second = MetricsServer(listen: .tcp(host: "127.0.0.1", port: port), logger: Self.logger, exposition: { [] })
            await #expect(throws: MetricsServer.StartError.self) { try await second.start() }
        }
    }

    @Test func runServesUntilItsTaskIsCancelled() async throws {
        let server = MetricsServer(listen: .tcp(host: "127.0.0.1", port: 0), logger: Self.logger,
                                   exposition: { Array("authzd_up 1\n".utf8) })
        let task = Task { try await server.run() }
        var address: SocketAddress?
        for _ in 0..<200 where address == nil {
            address = server.localAddress
            if address == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        let bound = try #require(address)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        #expect(await Self.eventuallyServed(address: bound, group: group))
        task.cancel()
        try await task.value
        #expect(server.localAddress == nil)
        await #expect(throws: (any Error).self) { _ = try await RawHTTPClient.connect(to: bound, group: group) }
        try await group.shutdownGracefully()
    }
}

/// A flag the test flips while the listener reads it from its event loop.
final class NIOLockedValueBoxBool: Sendable {
    private let box = NIOLockedValueBox(true)
    init(_ value: Bool) { box.withLockedValue { $0 = value } }
    var value: Bool {
        get { box.withLockedValue { $0 } }
        set { box.withLockedValue { $0 = newValue } }
    }
}
