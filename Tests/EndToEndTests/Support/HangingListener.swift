import Foundation

/// A TCP port on 127.0.0.1 that accepts connections (the kernel does, from the backlog) and
/// never answers: an identity provider that hangs, so a key fetch ends only by its timeout.
final class HangingListener {
    let port: UInt16
    private let fd: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            // deinit closes fd (it runs when an initializer throws after every property is set).
            throw TestFailure("cannot listen on 127.0.0.1")
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        port = UInt16(bigEndian: addr.sin_port)
    }

    /// A `jwks` step whose provider is this listener.
    func jwksApp(fetchTimeout: Int) -> String {
        """
        [[chain]]
        plugin = "jwks"
        url = "https://127.0.0.1:\(port)/jwks.json"
        fetch_timeout = \(fetchTimeout)
        min_refetch_interval = 30
        """
    }

    deinit { close(fd) }
}

/// A syntactically valid RS256 token (its signature is never reached: there are no keys).
let unverifiableRS256Token =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4IiwiZXhwIjo0MTAyNDQ0ODAwfQ."
    + String(repeating: "A", count: 342)
