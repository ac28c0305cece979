import AuthzText
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
            switch Self.role(of: rawName) {
            case .app: try Self.take(value, of: rawName, into: &app)
            case .remoteAddr: try Self.take(value, of: rawName, into: &remoteAddr)
            case .method: try Self.take(value, of: rawName, into: &method)
            case .path: try Self.take(value, of: rawName, into: &path)
            case .hop:
                continue
            case .forwarded:
                let name = HTTPField.lowercased(rawName)
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

    /// What a subrequest header is to the mapping.
    private enum Role {
        case app, remoteAddr, method, path
        /// Hop-by-hop, framing, `Host` or another `X-Original-*`: describes the nginx-to-shim hop.
        case hop
        /// An end-to-end header of the client's request.
        case forwarded
    }

    /// Classifies a header name by its bytes, ignoring ASCII case, without building a lowercased
    /// copy (the length picks the few names it can be).
    private static func role(of name: String) -> Role {
        var name = name
        return name.withUTF8 { u -> Role in
            if u.count >= 11, HTTPField.equalsIgnoringCase(UnsafeBufferPointer(rebasing: u[..<11]), "x-original-") {
                if HTTPField.equalsIgnoringCase(u, "x-original-method") { return .method }
                if HTTPField.equalsIgnoringCase(u, "x-original-uri") { return .path }
                return .hop
            }
            switch u.count {
            case 2: return HTTPField.equalsIgnoringCase(u, "te") ? .hop : .forwarded
            case 4: return HTTPField.equalsIgnoringCase(u, "host") ? .hop : .forwarded
            case 7:
                return HTTPField.equalsIgnoringCase(u, "trailer") || HTTPField.equalsIgnoringCase(u, "upgrade")
                    ? .hop : .forwarded
            case 9: return HTTPField.equalsIgnoringCase(u, "x-real-ip") ? .remoteAddr : .forwarded
            case 10:
                return HTTPField.equalsIgnoringCase(u, "connection") || HTTPField.equalsIgnoringCase(u, "keep-alive")
                    ? .hop : .forwarded
            case 11: return HTTPField.equalsIgnoringCase(u, "x-authz-app") ? .app : .forwarded
            case 14: return HTTPField.equalsIgnoringCase(u, "content-length") ? .hop : .forwarded
            case 16: return HTTPField.equalsIgnoringCase(u, "proxy-connection") ? .hop : .forwarded
            case 17: return HTTPField.equalsIgnoringCase(u, "transfer-encoding") ? .hop : .forwarded
            default: return .forwarded
            }
        }
    }
}
