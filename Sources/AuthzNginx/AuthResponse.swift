import AuthzWire
import NIOHTTP1

/// The response the shim gives nginx for one subrequest: a status and headers, never a body.
public struct AuthResponse: Sendable, Equatable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders

    public init(status: HTTPResponseStatus, headers: HTTPHeaders) {
        self.status = status
        self.headers = headers
    }

    /// The reason sent when authzd gave no usable answer.
    public static let upstreamUnavailableReason = "upstream_unavailable"

    /// Maps a decision. A deny is never answered with a 2xx status, even if authzd said so,
    /// because nginx lets any 2xx through: a confused answer must fail closed (403).
    /// Decision headers that would break the framing or that the shim owns are dropped, as are
    /// names and values that are not valid HTTP field syntax (a forwarded claim comes from a token
    /// and must not be able to inject a header line).
    public init(answer: CheckAnswer) {
        var code = answer.status
        if !answer.allow && (200..<300).contains(code) { code = 403 }
        var headers = HTTPHeaders()
        headers.reserveCapacity(answer.headers.count + 3)
        headers.add(name: "content-length", value: "0")
        for h in answer.headers where Self.mayForward(h) {
            headers.add(name: h.name, value: h.value)
        }
        headers.add(name: "x-authz-reason", value: Self.isFieldValue(answer.reason) ? answer.reason : "invalid")
        headers.add(name: "cache-control", value: answer.ttl > 0 ? "max-age=\(answer.ttl)" : "no-store")
        self.init(status: HTTPResponseStatus(statusCode: code), headers: headers)
    }

    /// 503 with `X-Authz-Reason: upstream_unavailable`: nginx treats it as an error and fails closed.
    public static var upstreamUnavailable: AuthResponse {
        AuthResponse(
            status: .serviceUnavailable,
            headers: [
                "content-length": "0",
                "x-authz-reason": upstreamUnavailableReason,
                "cache-control": "no-store",
            ])
    }

    /// 400 `bad_request`: the shim refused the subrequest itself (see `SubrequestError`), as authzd
    /// answers a malformed check. nginx answers the client 500.
    public static var badRequest: AuthResponse { refusal(.badRequest, reason: "bad_request") }

    /// 431 `line_too_long`: the subrequest's head, or the check line made from it, is longer than
    /// authzd accepts. nginx answers the client 500.
    public static var tooLarge: AuthResponse { refusal(.requestHeaderFieldsTooLarge, reason: "line_too_long") }

    private static func refusal(_ status: HTTPResponseStatus, reason: String) -> AuthResponse {
        AuthResponse(
            status: status, headers: ["content-length": "0", "x-authz-reason": reason, "cache-control": "no-store"])
    }

    static func mayForward(_ h: HeaderField) -> Bool {
        switch SubrequestMapping.lowercased(h.name) {
        case "content-length", "transfer-encoding", "connection", "keep-alive", "proxy-connection", "te",
            "trailer", "upgrade", "x-authz-reason", "cache-control":
            return false
        default:
            return isToken(h.name) && isFieldValue(h.value)
        }
    }

    /// RFC 9110 §5.6.2 token.
    static func isToken(_ s: String) -> Bool {
        guard !s.isEmpty else { return false }
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                continue
            case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
                UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
                continue
            default:
                return false
            }
        }
        return true
    }

    /// RFC 9110 §5.5 field value: no control characters other than tab (so no CR, LF or NUL).
    static func isFieldValue(_ s: String) -> Bool {
        for c in s.utf8 where (c < 0x20 && c != 0x09) || c == 0x7F {
            return false
        }
        return true
    }
}

extension AuthResponse {
    /// The response head for a request of this HTTP version, saying whether the connection stays
    /// open (HTTP/1.0 keep-alive must be announced; a closing connection is announced too).
    public func head(version: HTTPVersion, keepAlive: Bool) -> HTTPResponseHead {
        var headers = self.headers
        if !keepAlive {
            headers.replaceOrAdd(name: "connection", value: "close")
        } else if version.major == 1 && version.minor == 0 {
            headers.replaceOrAdd(name: "connection", value: "keep-alive")
        }
        return HTTPResponseHead(version: version, status: status, headers: headers)
    }
}
