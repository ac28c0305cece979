import AuthzCore
import Testing

@Suite struct HeadersTests {
    @Test func lookupsIgnoreCase() {
        let h = Headers([("Authorization", "Bearer x"), ("X-MiXeD", "v")])
        #expect(h["authorization"] == "Bearer x")
        #expect(h["AUTHORIZATION"] == "Bearer x")
        #expect(h["x-mixed"] == "v")
        #expect(h["X-Mixed"] == "v")
        #expect(h["missing"] == nil)
        #expect(h.entries.map(\.name) == ["authorization", "x-mixed"])
    }

    @Test func theFirstOfRepeatedHeadersIsReturned() {
        var h = Headers()
        h.append(name: "A", value: "1")
        h.append(name: "a", value: "2")
        #expect(h["a"] == "1")
        #expect(h.count == 2)
    }

    @Test func equalityComparesNormalisedEntries() {
        #expect(Headers([("A", "1")]) == Headers([("a", "1")]))
        #expect(Headers([("a", "1")]) != Headers([("a", "2")]))
    }
}

@Suite struct CheckRequestTests {
    private func request(path: String?) -> CheckRequest { CheckRequest(app: "a", path: path) }

    @Test func queryParameterFindsTheFirstOccurrence() {
        let r = request(path: "/live/rest?token=abc&x=1&token=def")
        #expect(r.queryParameter("token") == "abc")
        #expect(r.queryParameter("x") == "1")
        #expect(r.queryParameter("y") == nil)
    }

    @Test func queryParameterIsPercentDecoded() {
        #expect(request(path: "/p?t=a%2Eb%2ec&s=a+b").queryParameter("t") == "a.b.c")
        #expect(request(path: "/p?s=a+b%20c").queryParameter("s") == "a b c")
    }

    @Test func queryParameterEdgeCases() {
        #expect(request(path: "/p?flag&t=").queryParameter("flag") == "")
        #expect(request(path: "/p?flag&t=").queryParameter("t") == "")
        #expect(request(path: "/p?t=1#frag").queryParameter("t") == "1")
        #expect(request(path: "/p").queryParameter("t") == nil)
        #expect(request(path: nil).queryParameter("t") == nil)
        #expect(request(path: "/p?token=abc").queryParameter("tok") == nil)
        #expect(request(path: "/p?t=%zz").queryParameter("t") == nil)
        #expect(request(path: "/p?t=%4").queryParameter("t") == nil)
    }

    @Test func cookieIsFoundAmongOthers() {
        let r = CheckRequest(app: "a", headers: Headers([("Cookie", "sid=1; jwt=tok.en.sig;other=x")]))
        #expect(r.cookie("jwt") == "tok.en.sig")
        #expect(r.cookie("sid") == "1")
        #expect(r.cookie("other") == "x")
        #expect(r.cookie("jw") == nil)
        #expect(r.cookie("missing") == nil)
    }

    @Test func quotedCookieValuesAreUnquoted() {
        let r = CheckRequest(app: "a", headers: Headers([("cookie", #"jwt="abc"; e="""#)]))
        #expect(r.cookie("jwt") == "abc")
        #expect(r.cookie("e") == "")
    }

    @Test func noCookieHeaderMeansNoCookie() {
        #expect(CheckRequest(app: "a").cookie("jwt") == nil)
    }

    @Test func remoteAddrIsParsedOnce() {
        #expect(CheckRequest(app: "a", remoteAddr: "::ffff:127.0.0.1").remoteIP == IPAddress("127.0.0.1"))
        #expect(CheckRequest(app: "a", remoteAddr: "junk").remoteIP == nil)
    }
}
