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
        // A status that cannot have a body is sent without framing headers, as NIO's encoder does.
        let framed = status.mayHaveResponseBody
        let code = String(status.code)
        let reason = status.reasonPhrase
        // Everything is written through one reservation (one capacity check, not one per piece):
        // "HTTP/M.N " with up to 20 digits each, the status line's CRLF, the connection header
        // and the final CRLF fit in 100 bytes.
        var bound = 100 + code.utf8.count + reason.utf8.count
        for (name, value) in headers { bound += name.utf8.count + value.utf8.count + 4 }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { out in
            var w = ByteWriter(out.baseAddress!)
            switch (version.major, version.minor) {
            case (1, 1): w.raw("HTTP/1.1 ")
            case (1, 0): w.raw("HTTP/1.0 ")
            default:
                w.raw("HTTP/")
                w.text(String(version.major))
                w.raw(".")
                w.text(String(version.minor))
                w.raw(" ")
            }
            w.text(code)
            w.raw(" ")
            w.text(reason)
            w.raw("\r\n")
            for (name, value) in headers {
                if !framed,
                   HTTPField.equalsIgnoringCase(name, "content-length")
                    || HTTPField.equalsIgnoringCase(name, "transfer-encoding") {
                    continue
                }
                w.text(name)
                w.raw(": ")
                w.text(value)
                w.raw("\r\n")
            }
            if !keepAlive {
                w.raw("connection: close\r\n")
            } else if version.major == 1 && version.minor == 0 {
                w.raw("connection: keep-alive\r\n")
            }
            w.raw("\r\n")
            return w.count
        }
    }
}

/// Bytes written through a raw pointer into space reserved beforehand (see `AuthResponse.write`).
private struct ByteWriter {
    private let base: UnsafeMutableRawPointer
    private(set) var count = 0

    init(_ base: UnsafeMutableRawPointer) {
        self.base = base
    }

    mutating func raw(_ s: StaticString) {
        (base + count).copyMemory(from: s.utf8Start, byteCount: s.utf8CodeUnitCount)
        count += s.utf8CodeUnitCount
    }

    mutating func text(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            guard let start = utf8.baseAddress else { return }
            (base + count).copyMemory(from: start, byteCount: utf8.count)
            count += utf8.count
        }
    }
}
