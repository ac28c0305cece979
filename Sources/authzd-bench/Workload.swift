import AuthzWire
import NIOCore

/// The requests a run sends: which apps and tokens, used in turn. Each line is written by
/// `AuthzWire` straight into the connection's outbound buffer; the header lists are built once,
/// so a request costs the encoding and no allocation.
struct Workload: Sendable {
    private let apps: [String]
    private let ip: String
    private let path: String
    /// `authorization: Bearer TOKEN` for each token; one empty list when no token is sent.
    private let tokenHeaders: [[HeaderField]]
    let tokenCount: Int

    init(apps: [String], tokens: [String], ip: String, path: String = "/") {
        precondition(!apps.isEmpty)
        self.apps = apps
        self.ip = ip
        self.path = path
        tokenHeaders = tokens.isEmpty ? [[]] : tokens.map { [HeaderField(name: "authorization", value: "Bearer " + $0)] }
        tokenCount = tokens.count
    }

    /// Appends request `sequence` of the run (which picks app and token in turn) with this id.
    func write(id: UInt64, sequence: Int, into buffer: inout ByteBuffer) {
        WireRequest.encodeCheck(
            id: Int(truncatingIfNeeded: id), app: apps[sequence % apps.count], remoteAddr: ip, method: "GET", path: path,
            headers: tokenHeaders[sequence % tokenHeaders.count], into: &buffer)
    }
}
