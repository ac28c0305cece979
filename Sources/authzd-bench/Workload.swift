import AuthzJSON
import NIOCore

/// The requests a run sends: which apps and tokens, used in turn. Each line is assembled from
/// pre-escaped pieces into the connection's outbound buffer, so building a request costs a few
/// copies and no JSON encoding.
struct Workload: Sendable {
    /// `,"app":"NAME","remote_addr":"IP","method":"GET","path":"/"` for each app.
    private let appParts: [[UInt8]]
    /// `,"headers":{"authorization":"Bearer TOKEN"}` for each token; empty when no token is sent.
    private let tokenParts: [[UInt8]]

    init(apps: [String], tokens: [String], ip: String, path: String = "/") {
        precondition(!apps.isEmpty)
        appParts = apps.map { app in
            var w = JSONWriter(capacity: 96)
            w.writeRaw(",\"app\":")
            w.writeString(app)
            w.writeRaw(",\"remote_addr\":")
            w.writeString(ip)
            w.writeRaw(",\"method\":\"GET\",\"path\":")
            w.writeString(path)
            return w.bytes
        }
        tokenParts = tokens.map { token in
            var w = JSONWriter(capacity: token.utf8.count + 48)
            w.writeRaw(",\"headers\":{\"authorization\":")
            w.writeString("Bearer " + token)
            w.writeRaw("}")
            return w.bytes
        }
    }

    var appCount: Int { appParts.count }
    var tokenCount: Int { tokenParts.count }

    /// Appends request `sequence` of the run (which picks app and token in turn) with this id.
    func write(id: UInt64, sequence: Int, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{\"id\":")
        writeDecimal(id, into: &buffer)
        buffer.writeBytes(appParts[sequence % appParts.count])
        if !tokenParts.isEmpty {
            buffer.writeBytes(tokenParts[sequence % tokenParts.count])
        }
        buffer.writeStaticString("}\n")
    }

    private func writeDecimal(_ value: UInt64, into buffer: inout ByteBuffer) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { raw in
            var v = value
            var at = raw.count
            repeat {
                at -= 1
                raw[at] = UInt8(0x30 + v % 10)
                v /= 10
            } while v > 0
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[at...]))
        }
    }
}
