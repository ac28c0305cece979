import AuthzWire
import NIOCore
import NIOHTTP1

/// The mapping from an nginx `auth_request` subrequest to the fields of a SPEC §3 `check` line;
/// `AuthzWire` writes the line.
///
/// Pure and socket-free so the mapping can be tested on its own. A subrequest whose mapping
/// headers are malformed never becomes a line (see `SubrequestError`): the shim answers it 400
/// itself, so nothing a client smuggled into them reaches authzd.
public struct SubrequestMapping: Sendable, Equatable {
    /// From `X-Authz-App`; always set (and a valid app name) when mapped from a subrequest head.
    public var app: String?
    /// From `X-Real-IP`.
    public var remoteAddr: String?
    /// From `X-Original-Method`.
    public var method: String?
    /// From `X-Original-URI`.
    public var path: String?
    /// Every other end-to-end header, names lowercased, repeated names joined in first-seen order.
    public var headers: [HeaderField]

    public init(app: String?, remoteAddr: String?, method: String?, path: String?, headers: [HeaderField] = []) {
        self.app = app
        self.remoteAddr = remoteAddr
        self.method = method
        self.path = path
        self.headers = headers
    }

    /// Maps a subrequest head. Hop-by-hop headers and the mapping headers themselves are left
    /// out: they describe the nginx-to-shim hop, not the client's request. Throws when
    /// `X-Authz-App` is missing or not an app name, or when a mapping header is repeated or holds
    /// a control character.
    public init(head: HTTPRequestHead) throws(SubrequestError) {
        var app: String?
        var remoteAddr: String?
        var method: String?
        var path: String?
        var headers: [HeaderField] = []
        headers.reserveCapacity(head.headers.count)
        for (rawName, value) in head.headers {
            let name = Self.lowercased(rawName)
            switch name {
            case "x-authz-app": try Self.take(value, of: rawName, into: &app)
            case "x-real-ip": try Self.take(value, of: rawName, into: &remoteAddr)
            case "x-original-method": try Self.take(value, of: rawName, into: &method)
            case "x-original-uri": try Self.take(value, of: rawName, into: &path)
            case "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
                "upgrade", "content-length", "host":
                continue
            default:
                if name.utf8.starts(with: "x-original-".utf8) { continue }
                if let i = headers.firstIndex(where: { $0.name == name }) {
                    // RFC 9110 §5.3 joins repeated fields with commas; Cookie is the exception
                    // (RFC 6265 §5.4 joins cookie pairs with "; ").
                    headers[i].value += name == "cookie" ? "; " : ", "
                    headers[i].value += value
                } else {
                    headers.append(HeaderField(name: name, value: value))
                }
            }
        }
        guard let app else { throw SubrequestError(.missingApp, header: "X-Authz-App") }
        guard Self.isAppName(app) else { throw SubrequestError(.invalidApp, header: "X-Authz-App", value: app) }
        self.init(app: app, remoteAddr: remoteAddr, method: method, path: path, headers: headers)
    }

    /// Stores the first value of a mapping header; a second one, or a control character, is refused.
    private static func take(_ value: String, of name: String, into slot: inout String?) throws(SubrequestError) {
        guard slot == nil else { throw SubrequestError(.repeatedHeader, header: name, value: value) }
        for c in value.utf8 where c < 0x20 || c == 0x7F {
            throw SubrequestError(.controlCharacter, header: name, value: value)
        }
        slot = value
    }

    /// `[A-Za-z0-9._-]{1,64}`: what an app file name (`apps.d/NAME.toml`) may be.
    public static func isAppName(_ s: String) -> Bool {
        let bytes = s.utf8
        guard (1...64).contains(bytes.count) else { return false }
        for c in bytes {
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                continue
            default:
                return false
            }
        }
        return true
    }

    /// Appends the check line, newline included, with this request id.
    public func writeLine(id: Int, to buffer: inout ByteBuffer) {
        WireRequest.encodeCheck(
            id: id, app: app, remoteAddr: remoteAddr, method: method, path: path, headers: headers, into: &buffer)
    }

    /// The check line as bytes; convenient for tests and logging.
    public func line(id: Int) -> [UInt8] {
        var buffer = ByteBuffer()
        writeLine(id: id, to: &buffer)
        return Array(buffer.readableBytesView)
    }

    /// ASCII-only lowercasing: header names are tokens, and this avoids Unicode case mapping
    /// on the request path. Returns the original string when it is already lowercase.
    static func lowercased(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { return s }
        return String(decoding: s.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}
