import AuthzWire
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import AuthzNginx

@Suite struct AuthResponseTests {
    @Test func allowBecomes200WithDecisionHeadersReasonAndCacheTime() {
        let r = AuthResponse(
            answer: CheckAnswer(
                allow: true, status: 200, reason: "ok", headers: [HeaderField(name: "x-auth-subject", value: "alice")],
                ttl: 30))
        #expect(r.status == .ok)
        #expect(r.headers["content-length"] == ["0"])
        #expect(r.headers["x-auth-subject"] == ["alice"])
        #expect(r.headers["x-authz-reason"] == ["ok"])
        #expect(r.headers["cache-control"] == ["max-age=30"])
    }

    @Test func denyWithoutTTLIsNotCacheableAndKeepsWWWAuthenticate() {
        let r = AuthResponse(
            answer: CheckAnswer(
                allow: false, status: 401, reason: "no_token",
                headers: [HeaderField(name: "www-authenticate", value: #"Bearer realm="live""#)]))
        #expect(r.status == .unauthorized)
        #expect(r.headers["www-authenticate"] == [#"Bearer realm="live""#])
        #expect(r.headers["x-authz-reason"] == ["no_token"])
        #expect(r.headers["cache-control"] == ["no-store"])
    }

    @Test(arguments: [(403, "ip_not_allowed"), (400, "bad_request"), (503, "jwks_unavailable")])
    func otherStatusesPassAsTheyAre(status: Int, reason: String) {
        let r = AuthResponse(answer: CheckAnswer(allow: false, status: status, reason: reason))
        #expect(r.status.code == UInt(status))
        #expect(r.headers["x-authz-reason"] == [reason])
    }

    @Test func aDenyNeverGoesOutAsSuccess() {
        let r = AuthResponse(answer: CheckAnswer(allow: false, status: 200, reason: "no_decision"))
        #expect(r.status == .forbidden)
    }

    @Test func headersThatCouldBreakFramingOrInjectLinesAreDropped() {
        let r = AuthResponse(
            answer: CheckAnswer(
                allow: true, status: 200, reason: "ok",
                headers: [
                    HeaderField(name: "content-length", value: "5"), HeaderField(name: "Transfer-Encoding", value: "chunked"),
                    HeaderField(name: "cache-control", value: "public"), HeaderField(name: "x-authz-reason", value: "forged"),
                    HeaderField(name: "x-bad name", value: "v"), HeaderField(name: "x-sub", value: "a\r\nSet-Cookie: s=1"),
                    HeaderField(name: "x-ok", value: "fine"),
                ], ttl: 0))
        #expect(r.headers["content-length"] == ["0"])
        #expect(r.headers["transfer-encoding"].isEmpty)
        #expect(r.headers["cache-control"] == ["no-store"])
        #expect(r.headers["x-authz-reason"] == ["ok"])
        #expect(r.headers["x-sub"].isEmpty)
        #expect(r.headers["set-cookie"].isEmpty)
        #expect(r.headers["x-ok"] == ["fine"])
        #expect(r.headers.count == 4)
    }

    @Test func upstreamUnavailableIs503WithItsReasonAndNotCacheable() {
        let r = AuthResponse.upstreamUnavailable
        #expect(r.status == .serviceUnavailable)
        #expect(r.headers["x-authz-reason"] == ["upstream_unavailable"])
        #expect(r.headers["cache-control"] == ["no-store"])
        #expect(r.headers["content-length"] == ["0"])
    }

    @Test func closingAndHTTP10KeepAliveAreAnnounced() {
        let r = AuthResponse.upstreamUnavailable
        #expect(r.head(version: .http1_1, keepAlive: true).headers["connection"].isEmpty)
        #expect(r.head(version: .http1_1, keepAlive: false).headers["connection"] == ["close"])
        #expect(r.head(version: .http1_0, keepAlive: true).headers["connection"] == ["keep-alive"])
        #expect(r.head(version: .http1_0, keepAlive: true).version == .http1_0)
    }

    /// The shim writes its responses as bytes itself; they must be exactly what NIO's response
    /// encoder writes for the same head, for every shape, version and connection disposition.
    @Test(arguments: [(1, 1, true), (1, 1, false), (1, 0, true), (1, 0, false)])
    func encodedBytesAreWhatNIOsResponseEncoderWrites(major: Int, minor: Int, keepAlive: Bool) throws {
        let version = HTTPVersion(major: major, minor: minor)
        let responses: [AuthResponse] = [
            AuthResponse(answer: CheckAnswer(
                allow: true, status: 200, reason: "ok",
                headers: [HeaderField(name: "X-Auth-Subject", value: "alice"), HeaderField(name: "x-scope", value: "a\tb")],
                ttl: 30)),
            AuthResponse(answer: CheckAnswer(
                allow: false, status: 401, reason: "no_token",
                headers: [HeaderField(name: "www-authenticate", value: "Bearer realm=\"api\"")])),
            AuthResponse(answer: CheckAnswer(allow: false, status: 403, reason: "ip_not_allowed")),
            AuthResponse(answer: CheckAnswer(allow: true, status: 204, reason: "ok")),
            AuthResponse(answer: CheckAnswer(allow: false, status: 599, reason: "odd")),
            .badRequest, .tooLarge, .upstreamUnavailable,
        ]
        for r in responses {
            let channel = EmbeddedChannel(handler: HTTPResponseEncoder())
            try channel.writeOutbound(HTTPServerResponsePart.head(r.head(version: version, keepAlive: keepAlive)))
            try channel.writeOutbound(HTTPServerResponsePart.end(nil))
            var nio = ByteBuffer()
            while let part = try channel.readOutbound(as: IOData.self) {
                guard case .byteBuffer(var b) = part else {
                    Issue.record("the encoder wrote a file region")
                    continue
                }
                nio.writeBuffer(&b)
            }
            _ = try channel.finish()
            var ours = ByteBuffer()
            r.write(version: version, keepAlive: keepAlive, into: &ours)
            #expect(String(buffer: ours) == String(buffer: nio), "\(r.status)")
        }
    }
}
