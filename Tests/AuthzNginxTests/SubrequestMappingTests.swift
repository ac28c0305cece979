import AuthzJSON
import AuthzWire
import NIOHTTP1
import Testing

@testable import AuthzNginx

@Suite struct CheckRequestTests {
    func head(_ headers: [(String, String)]) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: .GET, uri: "/_authz", headers: HTTPHeaders(headers))
    }

    @Test func mappingHeadersBecomeTheCheckFieldsAndAreNotForwarded() throws {
        let r = try SubrequestMapping(
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

    @Test func hopByHopHeadersAreDropped() throws {
        let r = try SubrequestMapping(
            head: head([
                ("X-Authz-App", "live"),
                ("Connection", "keep-alive"), ("Keep-Alive", "timeout=5"), ("Proxy-Connection", "x"), ("TE", "trailers"),
                ("Trailer", "x"), ("Transfer-Encoding", "chunked"), ("Upgrade", "websocket"), ("Content-Length", "0"),
                ("Host", "h"), ("Accept", "*/*"),
            ]))
        #expect(r.headers == [HeaderField(name: "accept", value: "*/*")])
    }

    @Test func namesAreLowercasedAndRepeatsJoinedWithCommaButCookiesWithSemicolon() throws {
        let r = try SubrequestMapping(
            head: head([
                ("X-Authz-App", "live"),
                ("X-Forwarded-For", "10.0.0.1"), ("Cookie", "a=1"), ("x-forwarded-for", "10.0.0.2"), ("COOKIE", "b=2"),
            ]))
        #expect(
            r.headers == [
                HeaderField(name: "x-forwarded-for", value: "10.0.0.1, 10.0.0.2"),
                HeaderField(name: "cookie", value: "a=1; b=2"),
            ])
    }

    @Test func missingOptionalMappingHeadersAreLeftOutOfTheLine() throws {
        let r = try SubrequestMapping(head: head([("X-Authz-App", "live")]))
        #expect(r.app == "live")
        let line = r.line(id: 7)
        #expect(line.last == UInt8(ascii: "\n"))
        let parsed = try JSONParser.parse(line.dropLast())
        #expect(parsed == ["id": 7, "op": "check", "app": "live", "headers": [:]])
    }

    func refusal(_ headers: [(String, String)]) -> SubrequestError? {
        do {
            _ = try SubrequestMapping(head: head(headers))
            return nil
        } catch {
            return error
        }
    }

    @Test func missingAppIsRefused() {
        #expect(refusal([("X-Real-IP", "192.0.2.1")])?.code == .missingApp)
    }

    @Test func appOutsideTheNameAlphabetOrLengthIsRefused() {
        for bad in ["", "live app", "live/../x", "live%0D%0A", "caf\u{e9}", String(repeating: "a", count: 65), "live:1"] {
            #expect(refusal([("X-Authz-App", bad)])?.code == .invalidApp, "\(bad)")
        }
        for good in ["LiveApp", "web-rtc_2.0", String(repeating: "a", count: 64), "."] {
            #expect(refusal([("X-Authz-App", good)]) == nil, "\(good)")
        }
    }

    /// `X-Authz-App: live\r\nX-Real-IP: 10.0.0.1` written by nginx from a decoded URL arrives as a
    /// second X-Real-IP: the subrequest is refused, never judged on the injected address.
    @Test func repeatedMappingHeaderIsRefusedWhicheverItIs() {
        for name in ["X-Authz-App", "X-Real-IP", "X-Original-Method", "X-Original-URI"] {
            var headers = [("X-Authz-App", "live"), ("X-Real-IP", "192.0.2.1"), ("X-Original-Method", "GET"), ("X-Original-URI", "/")]
            headers.append((name.lowercased(), name == "X-Authz-App" ? "other" : "10.0.0.1"))
            let error = refusal(headers)
            #expect(error?.code == .repeatedHeader, "\(name)")
            #expect(error?.header.lowercased() == name.lowercased())
        }
    }

    @Test func controlCharacterInAMappingHeaderIsRefused() {
        for value in ["/a\rb", "/a\nb", "/a\u{0}b", "/a\tb", "/a\u{7f}b"] {
            let error = refusal([("X-Authz-App", "live"), ("X-Original-URI", value)])
            #expect(error?.code == .controlCharacter, "\(value.debugDescription)")
        }
        // Other headers go to authzd as JSON strings, where control characters are escaped.
        #expect(refusal([("X-Authz-App", "live"), ("X-Other", "a\tb")]) == nil)
    }

    @Test func refusedValueIsEscapedAndShortenedForTheLog() {
        let error = SubrequestError(.invalidApp, header: "X-Authz-App", value: "a\r\nb\"\\\u{e9}" + String(repeating: "x", count: 500))
        #expect(error.value.hasPrefix(#"a\x0d\x0ab\"\\\xc3\xa9xxx"#))
        #expect(error.value.hasSuffix("...(508 bytes)"))
        #expect(error.value.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F })
        #expect(error.value.count < 200)
    }

    @Test func lineCarriesEveryFieldAsSpecThreeNamesThem() throws {
        let r = SubrequestMapping(
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
