@testable import AuthzServer
import Foundation
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing

/// A blocking client on a Unix socket, with a receive timeout so a test cannot hang.
private final class UnixLineClient {
    private let fd: Int32

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard r == 0 else {
            close(fd)
            throw DaemonError("connect failed: errno \(errno)")
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Everything until the server closes (or the timeout, which returns nil).
    func readToEnd() -> String? {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n == 0 { return String(decoding: data, as: UTF8.self) }
            if n < 0 { return nil }
            data += buffer[0..<n]
        }
    }

    /// One answer line.
    func readLine() -> String? {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1 {
            if byte == 0x0A { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
        return nil
    }
}

@Suite struct SocketServerServiceTests {
    @Test func gracefulShutdownClosesConnectionsAfterTheirAnswersAndRemovesTheSocket() async throws {
        let f = try StoreFixture()
        let ready = OnceEvent()
        let service = SocketServerService(group: f.group, loops: f.loops, shared: f.shared, store: f.store,
                                          events: ConnectionEvents(), ready: ready, logger: f.logger)
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await service.run() }
                try await ready.wait()
                #expect(FileManager.default.fileExists(atPath: f.socketPath))
                let client = try UnixLineClient(path: f.socketPath)
                client.send("{\"id\":1,\"app\":\"web\",\"remote_addr\":\"127.0.0.1\"}\n")
                #expect(client.readLine()?.contains("\"allow\":true") == true)
                client.send("{\"id\":2,\"op\":\"ping\"}\n")
                #expect(client.readLine() == "{\"id\":2,\"ok\":true}")

                trigger.triggerGracefulShutdown()
                // The connection is closed by the server, with nothing more owed.
                #expect(client.readToEnd() == "")
                try await group.next()
            }
        }
        #expect(!FileManager.default.fileExists(atPath: f.socketPath))
        #expect(f.shared.resources.all.isEmpty)
    }

    @Test func aSocketThatCannotBePlacedFailsTheServiceWithThePathAndReason() async throws {
        let f = try StoreFixture()
        try f.write("authzd.toml", "[server]\nsocket = \"\(f.dir)/no/such/dir/authzd.sock\"\n")
        #expect(f.store.reload() == .applied(generation: 2, apps: 1))
        let service = SocketServerService(group: f.group, loops: f.loops, shared: f.shared, store: f.store,
                                          events: ConnectionEvents(), ready: OnceEvent(), logger: f.logger)
        let error = await #expect(throws: DaemonError.self) { try await service.run() }
        #expect(error?.description
            == "cannot listen on \(f.dir)/no/such/dir/authzd.sock: the directory \(f.dir)/no/such/dir does not exist, nor does its parent \(f.dir)/no/such")
    }
}
