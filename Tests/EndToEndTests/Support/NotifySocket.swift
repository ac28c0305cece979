import Foundation

/// A datagram socket standing in for systemd's NOTIFY_SOCKET: collects what the daemon sends.
final class NotifySocket: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var received: [String] = []
    private var reader: Thread?
    private var stopped = false

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard r == 0 else { throw TestFailure("bind \(path): \(String(cString: strerror(errno)))") }
        var tv = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [unowned self] in self.loop() }
        reader = thread
        thread.start()
    }

    private func loop() {
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            lock.lock()
            let done = stopped
            lock.unlock()
            if done { return }
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                let text = String(decoding: buf[0..<n], as: UTF8.self)
                lock.lock()
                received.append(text)
                lock.unlock()
            }
        }
    }

    /// Every datagram so far.
    var messages: [String] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    /// Index of the first datagram at or after `from` containing `line` as a whole line.
    func index(of line: String, from: Int = 0) -> Int? {
        let all = messages
        guard from < all.count else { return nil }
        return all[from...].firstIndex { $0.split(separator: "\n").contains { $0 == line } }
    }

    func waitFor(_ line: String, from: Int = 0, timeout: TimeInterval = 10) -> Int? {
        var found: Int?
        _ = eventually(timeout: timeout) {
            found = index(of: line, from: from)
            return found != nil
        }
        return found
    }

    deinit {
        lock.lock()
        stopped = true
        lock.unlock()
        usleep(200_000)
        close(fd)
    }
}
