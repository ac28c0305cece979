@testable import AuthzServer
import Foundation
import NIOCore
import NIOPosix
import Testing

/// A fresh directory, removed with everything in it when the value goes away.
private final class ScratchDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/sockfile-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw DaemonError("mkdtemp failed") }
        path = String(cString: p)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func entries() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }
}

/// Real listening sockets on a real event loop.
private final class Listener {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var channels: [Channel] = []

    deinit {
        for c in channels { try? c.close().wait() }
        try? group.syncShutdownGracefully()
    }

    func place(_ path: String, mode: UInt32 = 0o600, group name: String = "") async throws -> SocketFile {
        let placed = try await SocketFile.place(path: path, mode: mode, group: name) { bindPath in
            try await ServerBootstrap(group: group).bind(unixDomainSocketPath: bindPath).get()
        }
        channels.append(placed.channel)
        return placed.file
    }
}

private func inode(_ path: String) -> UInt64? {
    var st = stat()
    return lstat(path, &st) == 0 ? UInt64(st.st_ino) : nil
}

/// A socket file nobody listens on, as a crashed daemon leaves it.
private func makeStaleSocket(_ path: String) {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
    _ = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    close(fd)
}

private func message(_ body: () async throws -> Void) async -> String? {
    do {
        try await body()
        return nil
    } catch {
        return "\(error)"
    }
}

@Suite struct SocketFileTests {
    @Test func theSocketIsPlacedWithItsModeAndNothingElseIsLeft() async throws {
        let dir = try ScratchDirectory()
        let listener = Listener()
        let path = dir.path + "/a.sock"
        _ = try await listener.place(path, mode: 0o640)
        var st = stat()
        #expect(lstat(path, &st) == 0)
        #expect(st.st_mode & S_IFMT == S_IFSOCK)
        #expect(st.st_mode & 0o777 == 0o640)
        #expect(dir.entries() == ["a.sock"], "the private directory is gone")
        #expect(SocketFile.probe(path) == 0, "it accepts connections")
    }

    @Test func aLiveSocketIsNotTakenOver() async throws {
        let dir = try ScratchDirectory()
        let listener = Listener()
        let path = dir.path + "/a.sock"
        _ = try await listener.place(path)
        let before = inode(path)
        let error = await message { _ = try await listener.place(path) }
        #expect(error == "cannot listen on \(path): another process is listening on it (is authzd already running?); refusing to take over its socket")
        #expect(inode(path) == before)
        #expect(dir.entries() == ["a.sock"])
        #expect(SocketFile.probe(path) == 0)
    }

    @Test func aStaleSocketIsReplaced() async throws {
        let dir = try ScratchDirectory()
        let path = dir.path + "/a.sock"
        makeStaleSocket(path)
        #expect(SocketFile.probe(path) == ECONNREFUSED)
        let stale = inode(path)
        let listener = Listener()
        _ = try await listener.place(path)
        #expect(inode(path) != stale)
        #expect(SocketFile.probe(path) == 0)
    }

    @Test func onlyTheDaemonsOwnSocketIsRemoved() async throws {
        let dir = try ScratchDirectory()
        let path = dir.path + "/a.sock"
        let first = Listener(), second = Listener()
        let mine = try await first.place(path)
        unlink(path)
        let theirs = try await second.place(path)
        #expect(!mine.removeIfStillOurs())
        #expect(SocketFile.probe(path) == 0, "the other daemon's socket is still there")
        #expect(theirs.removeIfStillOurs())
        #expect(inode(path) == nil)
        #expect(!theirs.removeIfStillOurs(), "a second removal finds nothing")
    }

    @Test func aFailedBindLeavesNothingBehind() async throws {
        let dir = try ScratchDirectory()
        let path = dir.path + "/a.sock"
        let error = await message {
            _ = try await SocketFile.place(path: path, mode: 0o600, group: "") { _ in throw IOError(errnoCode: EADDRINUSE, reason: "bind") }
        }
        #expect(error == "cannot listen on \(path): bind failed: address already in use")
        #expect(dir.entries().isEmpty)
    }

    @Test func anUnknownGroupIsNamed() async throws {
        let dir = try ScratchDirectory()
        let path = dir.path + "/a.sock"
        let error = await message { _ = try await Listener().place(path, group: "no-such-group-for-authzd") }
        #expect(error == "cannot listen on \(path): socket_group no-such-group-for-authzd does not exist")
        #expect(dir.entries().isEmpty)
    }

    @Test func theSocketGetsItsGroupAndMode() async throws {
        let dir = try ScratchDirectory()
        let path = dir.path + "/a.sock"
        let listener = Listener()
        _ = try await listener.place(path, mode: 0o660, group: "nogroup")
        var st = stat()
        #expect(lstat(path, &st) == 0)
        #expect(st.st_gid == getgrnam("nogroup")?.pointee.gr_gid)
        #expect(st.st_mode & 0o777 == 0o660)
    }

    @Test func pathsThatCannotBeSocketsAreRefusedInPlainWords() async throws {
        let dir = try ScratchDirectory()
        let long = dir.path + "/" + String(repeating: "x", count: 100) + ".sock"
        #expect(await message { _ = try await Listener().place(long) }
                == "cannot listen on \(long): the path is \(long.utf8.count) bytes long; a Unix socket path can have at most 107")
        let nul = dir.path + "/a\u{0}b"
        #expect(await message { _ = try await Listener().place(nul) } == "cannot listen on \(nul): the path contains a NUL byte")
        let file = dir.path + "/plain"
        #expect(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        #expect(await message { _ = try await Listener().place(file) }
                == "cannot listen on \(file): the path exists and is not a socket; refusing to replace it")
        let underFile = file + "/a.sock"
        #expect(await message { _ = try await Listener().place(underFile) } == "cannot listen on \(underFile): \(file) is not a directory")
        #expect(dir.entries() == ["plain"])
    }

    @Test func aMissingDirectoryIsCreatedOneLevelDeep() async throws {
        let dir = try ScratchDirectory()
        let listener = Listener()
        let path = dir.path + "/run/a.sock"
        _ = try await listener.place(path)
        #expect(SocketFile.probe(path) == 0)
        let deeper = dir.path + "/x/y/a.sock"
        #expect(await message { _ = try await listener.place(deeper) }
                == "cannot listen on \(deeper): the directory \(dir.path)/x/y does not exist, nor does its parent \(dir.path)/x")
    }

    @Test func aTemporaryPathTooLongForBindIsReachedThroughItsDirectory() async throws {
        let dir = try ScratchDirectory()
        var sub = dir.path
        while sub.utf8.count < 98 { sub += "/d" }
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
        let path = sub + "/a.sock"
        #expect(path.utf8.count <= SocketFile.maxPathBytes)
        #expect((sub + "/.authzd-XXXXXX/s").utf8.count > SocketFile.maxPathBytes)
        let listener = Listener()
        _ = try await listener.place(path, mode: 0o600)
        #expect(SocketFile.probe(path) == 0)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: sub)) ?? []) == ["a.sock"])
    }

    @Test func directoryOfAPath() {
        #expect(SocketFile.directory(of: "/run/authzd/a.sock") == "/run/authzd")
        #expect(SocketFile.directory(of: "/a.sock") == "/")
        #expect(SocketFile.directory(of: "a.sock") == ".")
    }
}
