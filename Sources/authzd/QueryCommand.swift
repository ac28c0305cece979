import ArgumentParser
import AuthzCore
import AuthzJSON
import AuthzText
import AuthzWire
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

struct Query: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask the daemon once; print the answer; exit 0 on allow, 1 on deny.")

    @Option(help: "The daemon's socket.") var socket: String = "/run/authzd/authzd.sock"
    @Option(help: "The app whose chain decides.") var app: String
    @Option(help: "The client address.") var ip: String?
    @Option(help: "A token, sent as 'Authorization: Bearer TOKEN'.") var token: String?
    @Option(help: "HTTP method.") var method: String?
    @Option(help: "Request path.") var path: String?

    func run() throws {
        let headers = token.map { Headers([("authorization", "Bearer " + $0)]) } ?? Headers()
        let request = CheckRequest(id: 1, app: app, remoteAddr: ip, method: method, path: path, headers: headers)
        var line = ByteBuffer()
        WireRequest.check(request).encode(into: &line)
        let answer: String
        do {
            answer = try UnixLineClient(path: socket).roundTrip(line.readableBytesView)
        } catch {
            throw failure("query", error.description, exitCode: 2)
        }
        print(answer)
        guard case .check(let decision)? = try? WireAnswer.decode(answer.utf8) else {
            throw failure("query", "the answer is not a decision", exitCode: 2)
        }
        if !decision.allow { throw ExitCode(1) }
    }
}

/// A blocking one-line exchange over a Unix stream socket, for the command line.
struct UnixLineClient {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let path: String
    /// Seconds to wait for the connection, the send and the answer (nil: as long as it takes).
    var timeout: Double? = nil

    /// Sends `line` (its `\n` included) and returns the first line of the answer, without its `\n`.
    func roundTrip(_ line: some Collection<UInt8>) throws(Failure) -> String {
        let shown = LogText.escaped(path)
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "cannot make a socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        if let timeout {
            var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let room = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < room else {
            throw Failure(description: "the socket path \(shown) is \(bytes.count) bytes; a Unix socket path holds at most \(room - 1)")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard ok == 0 else { throw Failure(description: "cannot connect to \(shown): \(Self.connectProblem(errno))") }
        let out = Array(line)
        var sent = 0
        while sent < out.count {
            let n = out[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw Failure(description: "cannot send to \(shown): \(String(cString: strerror(errno)))") }
            sent += n
        }
        var answer: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while !answer.contains(0x0A) {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EAGAIN || errno == EWOULDBLOCK, let timeout {
                throw Failure(description: "authzd at \(shown) did not answer within \(timeout.formatted()) s")
            }
            guard n > 0 else { throw Failure(description: "authzd at \(shown) closed the connection without answering") }
            answer.append(contentsOf: buf[0..<n])
        }
        return String(decoding: answer.prefix { $0 != 0x0A }, as: UTF8.self)
    }

    /// What a failed connect means for someone running `authzd query`.
    static func connectProblem(_ code: Int32) -> String {
        switch code {
        case ENOENT: "no such file (is authzd running?)"
        case ECONNREFUSED: "connection refused (is authzd running?)"
        case EACCES, EPERM: "permission denied (may this user use the socket? see socket_group and allowed_uids)"
        case ENOTSOCK: "not a socket"
        case ENOTDIR: "a part of the path is not a directory"
        default: String(cString: strerror(code))
        }
    }
}
