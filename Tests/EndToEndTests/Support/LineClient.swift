import AuthzJSON
import Foundation

/// A blocking client for authzd's socket protocol, for tests: send lines, read answer lines.
final class LineClient: @unchecked Sendable {
    let fd: Int32
    private var pending: [UInt8] = []

    /// Connects to a Unix socket; throws when nothing listens there.
    init(path: String, timeout: TimeInterval = 10) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket() failed") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard r == 0 else {
            // No close here: deinit runs when an initializer throws after every property is set,
            // and a second close could hit a descriptor another test has opened since.
            throw TestFailure("connect(\(path)) failed: \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }

    func send(_ text: String) throws {
        try send(bytes: Array(text.utf8))
    }

    func send(bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw TestFailure("send failed: \(String(cString: strerror(errno)))") }
            sent += n
        }
    }

    /// Closes the writing half (the daemon answers what it has, then closes).
    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// The next answer line (without `\n`); nil on EOF or timeout.
    func readLine() -> String? {
        while true {
            if let nl = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<nl], as: UTF8.self)
                pending.removeFirst(nl + 1)
                return line
            }
            var buf = [UInt8](repeating: 0, count: 65536)
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return nil }
            pending.append(contentsOf: buf[0..<n])
        }
    }

    /// The next answer parsed as JSON.
    func readJSON() throws -> JSONValue {
        guard let line = readLine() else { throw TestFailure("no answer line (connection closed or timed out)") }
        return try JSONParser.parse(line)
    }

    /// Sends one request and returns its answer.
    func ask(_ request: String) throws -> JSONValue {
        try send(request + "\n")
        return try readJSON()
    }

    /// True when the daemon closed the connection (EOF) within the timeout.
    func isClosedByPeer() -> Bool {
        var b: UInt8 = 0
        let n = recv(fd, &b, 1, 0)
        return n == 0 || (n < 0 && errno == ECONNRESET)
    }
}
