import AuthzCore
import AuthzJSON
import AuthzWire
import Testing

/// Decodes one line as the server does (without its `\n`).
func decodeLine(_ line: String) -> WireRequest {
    Array(line.utf8).withUnsafeBytes { WireRequest.decode($0) }
}

/// The check request a line decodes to; records an issue otherwise.
func checkRequest(_ line: String, sourceLocation: SourceLocation = #_sourceLocation) -> CheckRequest? {
    guard case .check(let r) = decodeLine(line) else {
        Issue.record("expected a check, got \(decodeLine(line))", sourceLocation: sourceLocation)
        return nil
    }
    return r
}

/// The id and message of a line refused as a bad request; records an issue otherwise.
func badRequest(_ line: String, sourceLocation: SourceLocation = #_sourceLocation) -> (id: JSONValue?, message: String)? {
    guard case .invalid(let id, let message) = decodeLine(line) else {
        Issue.record("expected bad_request for \(line), got \(decodeLine(line))", sourceLocation: sourceLocation)
        return nil
    }
    return (id, message)
}

@Suite struct WireRequestTests {
    @Test func aFullCheckDecodes() throws {
        let r = try #require(checkRequest(#"{"id":"r1","op":"check","app":"live","remote_addr":"10.1.2.3","method":"GET","path":"/live/rest/v2?x=1","headers":{"Authorization":"Bearer t","X-Other":"v"}}"#))
        #expect(r.id == "r1")
        #expect(r.app == "live")
        #expect(r.remoteAddr == "10.1.2.3")
        #expect(r.remoteIP == IPAddress("10.1.2.3"))
        #expect(r.method == "GET")
        #expect(r.path == "/live/rest/v2?x=1")
        #expect(r.headers["authorization"] == "Bearer t")
        #expect(r.headers["x-other"] == "v")
    }

    @Test func opDefaultsToCheckAndOptionalFieldsMayBeAbsent() throws {
        let r = try #require(checkRequest(#"{"app":"a"}"#))
        #expect(r.id == nil)
        #expect(r.remoteAddr == nil && r.remoteIP == nil && r.method == nil && r.path == nil)
        #expect(r.headers.count == 0)
    }

    @Test func aTrailingCarriageReturnIsTolerated() throws {
        let r = try #require(checkRequest("{\"app\":\"a\",\"id\":7}\r"))
        #expect(r.app == "a")
        #expect(r.id?.numberValue?.text == "7")
    }

    @Test func unknownFieldsAreIgnored() {
        #expect(checkRequest(#"{"app":"a","future":{"x":[1,2]}}"#) != nil)
    }

    @Test func stringAndNumberIdsEchoUnchanged() throws {
        #expect(try #require(checkRequest(#"{"id":"abc-1","app":"a"}"#)).id == "abc-1")
        let n = try #require(checkRequest(#"{"id":12345678901234567890123,"app":"a"}"#))
        #expect(n.id?.numberValue?.text == "12345678901234567890123")
        let f = try #require(checkRequest(#"{"id":1.50,"app":"a"}"#))
        #expect(f.id?.numberValue?.text == "1.50")
    }

    @Test func pingAndStatsCarryTheirId() {
        guard case .ping(let id) = decodeLine(#"{"op":"ping","id":3}"#) else { Issue.record("not a ping"); return }
        #expect(id?.numberValue?.text == "3")
        guard case .ping(let none) = decodeLine(#"{"op":"ping"}"#) else { Issue.record("not a ping"); return }
        #expect(none == nil)
        guard case .stats(let sid) = decodeLine(#"{"op":"stats","id":"s"}"#) else { Issue.record("not stats"); return }
        #expect(sid == "s")
    }

    @Test func pingNeedsNoApp() {
        guard case .ping = decodeLine(#"{"op":"ping"}"#) else { Issue.record("ping refused without app"); return }
    }

    @Test(arguments: ["", "not json", "{", #"{"app":"a"} trailing"#, #"{"app":"a"}{"app":"b"}"#])
    func linesThatAreNotJSONAreBadRequests(_ line: String) {
        let bad = badRequest(line)
        #expect(bad?.id == nil)
        #expect(bad?.message.isEmpty == false)
    }

    @Test(arguments: [#"[1,2]"#, #""app""#, "42", "null", "true"])
    func jsonThatIsNotAnObjectIsABadRequest(_ line: String) {
        #expect(badRequest(line)?.message.contains("object") == true)
    }

    @Test func missingAppIsABadRequestThatKeepsTheId() {
        let bad = badRequest(#"{"id":"x1","remote_addr":"127.0.0.1"}"#)
        #expect(bad?.id == "x1")
        #expect(bad?.message.contains("app") == true)
    }

    @Test(arguments: [
        (#"{"id":"i","app":5}"#, "app"),
        (#"{"id":"i","app":"a","op":1}"#, "op"),
        (#"{"id":"i","app":"a","remote_addr":2130706433}"#, "remote_addr"),
        (#"{"id":"i","app":"a","method":null}"#, "method"),
        (#"{"id":"i","app":"a","path":["/"]}"#, "path"),
        (#"{"id":"i","app":"a","headers":"Authorization: x"}"#, "headers"),
        (#"{"id":"i","app":"a","headers":["a","b"]}"#, "headers"),
        (#"{"id":"i","app":"a","headers":{"X-N":1}}"#, "X-N"),
        (#"{"id":"i","app":"a","headers":{"A":"ok","X-B":["v"]}}"#, "X-B"),
        (#"{"id":"i","app":"a","headers":{"X-C":null}}"#, "X-C"),
    ])
    func fieldsOfTheWrongTypeAreBadRequestsNamingTheField(_ line: String, _ field: String) {
        let bad = badRequest(line)
        #expect(bad?.message.contains(field) == true, "\(bad?.message ?? "")")
        #expect(bad?.id == "i")
    }

    @Test func theIdIsEchoedWhateverItsPositionInTheLine() {
        // The id comes after the faulty field: the answer must still carry it.
        #expect(badRequest(#"{"app":5,"id":"late"}"#)?.id == "late")
        #expect(badRequest(#"{"op":"nope","id":9}"#)?.id?.numberValue?.text == "9")
        #expect(badRequest(#"{"headers":{"a":1},"app":"x","id":"h"}"#)?.id == "h")
    }

    @Test(arguments: [#"{"id":true,"app":"a"}"#, #"{"id":null,"app":"a"}"#, #"{"id":{"x":1},"app":"a"}"#, #"{"id":[1],"app":"a"}"#])
    func anIdThatIsNotAStringOrNumberIsABadRequest(_ line: String) {
        let bad = badRequest(line)
        #expect(bad?.message.contains("id") == true)
        #expect(bad?.id == nil)
    }

    @Test func unknownOpIsABadRequest() {
        let bad = badRequest(#"{"id":1,"op":"delete","app":"a"}"#)
        #expect(bad?.message.contains("delete") == true)
        #expect(bad?.id?.numberValue?.text == "1")
    }

    @Test(arguments: ["", "localhost", "10.0.0.256", "1.2.3", "[::1]", "::1%eth0", "fe80::1%1", "10.0.0.1:80", " 10.0.0.1", "::g"])
    func anInvalidRemoteAddrIsABadRequest(_ addr: String) {
        let bad = badRequest(#"{"id":"r","app":"a","remote_addr":"\#(addr)"}"#)
        #expect(bad?.message.contains("remote_addr") == true)
        #expect(bad?.id == "r")
    }

    @Test func headerNamesAreCaseInsensitiveAfterDecoding() throws {
        let r = try #require(checkRequest(#"{"app":"a","headers":{"X-Forwarded-For":"1.2.3.4","COOKIE":"a=b"}}"#))
        #expect(r.headers["x-forwarded-for"] == "1.2.3.4")
        #expect(r.headers["X-FORWARDED-FOR"] == "1.2.3.4")
        #expect(r.cookie("a") == "b")
    }

    @Test func deepNestingIsABadRequestNotACrash() {
        let deep = #"{"app":"a","x":"# + String(repeating: "[", count: 100_000)
        #expect(badRequest(deep) != nil)
    }
}
