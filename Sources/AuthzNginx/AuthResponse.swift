import AuthzText
import AuthzWire
import NIOCore
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
        headers.add(name: "x-authz-reason", value: HTTPField.isFieldValue(answer.reason) ? answer.reason : "invalid")
        headers.add(name: "cache-control", value: answer.ttl > 0 ? "max-age=\(answer.ttl)" : "no-store")
        self.init(status: HTTPResponseStatus(statusCode: code), headers: headers)
    }

    /// 503 with `X-Authz-Reason: upstream_unavailable`: nginx treats it as an error and fails closed.
    public static let upstreamUnavailable: AuthResponse =
        AuthResponse(
            status: .serviceUnavailable,
            headers: [
                "content-length": "0",
                "x-authz-reason": upstreamUnavailableReason,
                "cache-control": "no-store",
            ])

    /// 400 `bad_request`: the shim refused the subrequest itself (see `SubrequestError`), as authzd
    /// answers a malformed check. nginx answers the client 500.
    public static let badRequest: AuthResponse = refusal(.badRequest, reason: "bad_request")

    /// 431 `line_too_long`: the subrequest's head, or the check line made from it, is longer than
    /// authzd accepts. nginx answers the client 500.
    public static let tooLarge: AuthResponse = refusal(.requestHeaderFieldsTooLarge, reason: "line_too_long")

    private static func refusal(_ status: HTTPResponseStatus, reason: String) -> AuthResponse {
        AuthResponse(
            status: status, headers: ["content-length": "0", "x-authz-reason": reason, "cache-control": "no-store"])
    }

    static func mayForward(_ h: HeaderField) -> Bool {
        !isShimOwned(h.name) && HTTPField.isToken(h.name) && HTTPField.isFieldValue(h.value)
    }

    /// Framing and hop-by-hop headers, and the two the shim sets itself, in any case.
    private static func isShimOwned(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { u -> Bool in
            switch u.count {
            case 2: return HTTPField.equalsIgnoringCase(u, "te")
            case 7: return HTTPField.equalsIgnoringCase(u, "trailer") || HTTPField.equalsIgnoringCase(u, "upgrade")
            case 10: return HTTPField.equalsIgnoringCase(u, "connection") || HTTPField.equalsIgnoringCase(u, "keep-alive")
            case 13: return HTTPField.equalsIgnoringCase(u, "cache-control")
            case 14: return HTTPField.equalsIgnoringCase(u, "content-length") || HTTPField.equalsIgnoringCase(u, "x-authz-reason")
            case 16: return HTTPField.equalsIgnoringCase(u, "proxy-connection")
            case 17: return HTTPField.equalsIgnoringCase(u, "transfer-encoding")
            default: return false
            }
        }
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

extension AuthResponse {
    /// Appends the whole response as HTTP/1 bytes: the same bytes NIO's `HTTPResponseEncoder`
    /// writes for ``head(version:keepAlive:)`` and an empty end, without building a head, copying
    /// the headers or passing through the encoder per answer. Every header here is fixed text or
    /// was checked when the response was built, so nothing needs validating on the way out.
    public func write(version: HTTPVersion, keepAlive: Bool, into buffer: inout ByteBuffer) {
        switch (version.major, version.minor) {
        case (1, 1): buffer.writeStaticString("HTTP/1.1 ")
        case (1, 0): buffer.writeStaticString("HTTP/1.0 ")
        default:
            buffer.writeStaticString("HTTP/")
            buffer.writeString(String(version.major))
            buffer.writeStaticString(".")
            buffer.writeString(String(version.minor))
            buffer.writeStaticString(" ")
        }
        buffer.writeString(String(status.code))
        buffer.writeStaticString(" ")
        buffer.writeString(status.reasonPhrase)
        buffer.writeStaticString("\r\n")
        // A status that cannot have a body is sent without framing headers, as NIO's encoder does.
        let framed = status.mayHaveResponseBody
        for (name, value) in headers {
            if !framed, HTTPField.equalsIgnoringCase(name, "content-length") || HTTPField.equalsIgnoringCase(name, "transfer-encoding") {
                continue
            }
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        if !keepAlive {
            buffer.writeStaticString("connection: close\r\n")
        } else if version.major == 1 && version.minor == 0 {
            buffer.writeStaticString("connection: keep-alive\r\n")
        }
        buffer.writeStaticString("\r\n")
    }
}
