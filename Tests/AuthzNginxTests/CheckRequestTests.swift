import AuthzJSON
import NIOHTTP1
import Testing

@testable import AuthzNginx

@Suite struct CheckRequestTests {
    func head(_ headers: [(String, String)]) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: .GET, uri: "/_authz", headers: HTTPHeaders(headers))
    }

    @Test func mappingHeadersBecomeTheCheckFieldsAndAreNotForwarded() {
        let r = CheckRequest(
            head: head([
                ("Host", "authzd_nginx"), ("X-Authz-App", "live"), ("X-Real-IP", "203.0.113.7"),
                ("X-Original-Method", "POST"), ("X-Original-URI", "/live/rest/v2/broadcasts?x=1"),
                ("X-Original-Host", "media.example.com"), ("Authorization", "Bearer abc"),
            ]))
        #expect(r.app == "live")
        #expect(r.remoteAddr == "203.0.113.7")
        #expect(r.method == "POST")
        #expect(r.path == "/live/rest/v2/broadcasts?x=1")
        #expect(r.headers == [HeaderField(name: "authorization", value: "Bearer abc")])
    }

    @Test func hopByHopHeadersAreDropped() {
        let r = CheckRequest(
            head: head([
                ("Connection", "keep-alive"), ("Keep-Alive", "timeout=5"), ("Proxy-Connection", "x"), ("TE", "trailers"),
                ("Trailer", "x"), ("Transfer-Encoding", "chunked"), ("Upgrade", "websocket"), ("Content-Length", "0"),
                ("Host", "h"), ("Accept", "*/*"),
            ]))
        #expect(r.headers == [HeaderField(name: "accept", value: "*/*")])
    }

    @Test func namesAreLowercasedAndRepeatsJoinedWithCommaButCookiesWithSemicolon() {
        let r = CheckRequest(
            head: head([
                ("X-Forwarded-For", "10.0.0.1"), ("Cookie", "a=1"), ("x-forwarded-for", "10.0.0.2"), ("COOKIE", "b=2"),
            ]))
        #expect(
            r.headers == [
                HeaderField(name: "x-forwarded-for", value: "10.0.0.1, 10.0.0.2"),
                HeaderField(name: "cookie", value: "a=1; b=2"),
            ])
    }

    @Test func missingMappingHeadersAreLeftOutOfTheLine() throws {
        let r = CheckRequest(head: head([]))
        #expect(r.app == nil)
        let line = r.line(id: 7)
        #expect(line.last == UInt8(ascii: "\n"))
        let parsed = try JSONParser.parse(line.dropLast())
        #expect(parsed == ["id": 7, "op": "check", "headers": [:]])
    }

    @Test func lineCarriesEveryFieldAsSpecThreeNamesThem() throws {
        let r = CheckRequest(
            app: "live", remoteAddr: "::1", method: "GET", path: "/live/rest/x?\"q\"",
            headers: [HeaderField(name: "authorization", value: "Bearer t"), HeaderField(name: "x-a", value: "tab\there")])
        let line = r.line(id: 42)
        #expect(line.filter { $0 == UInt8(ascii: "\n") }.count == 1)
        let parsed = try JSONParser.parse(line.dropLast(), options: .init(rejectDuplicateKeys: true))
        #expect(
            parsed == [
                "id": 42, "op": "check", "app": "live", "remote_addr": "::1", "method": "GET",
                "path": "/live/rest/x?\"q\"", "headers": ["authorization": "Bearer t", "x-a": "tab\there"],
            ])
    }
}
