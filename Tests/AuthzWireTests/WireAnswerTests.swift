import AuthzCore
import AuthzJSON
import AuthzWire
import NIOCore
import Testing

/// The answer line for a decision, parsed back; checks the single `\n` at the end.
func answer(_ d: Decision, id: JSONValue?, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONObject {
    var b = ByteBuffer()
    WireAnswer.encode(d, id: id, into: &b)
    let bytes = Array(b.readableBytesView)
    #expect(bytes.last == 0x0A, sourceLocation: sourceLocation)
    #expect(bytes.dropLast().contains(0x0A) == false, "one line only", sourceLocation: sourceLocation)
    return try #require(try JSONParser.parse(bytes.dropLast(), options: .init(rejectDuplicateKeys: true)).objectValue,
                        sourceLocation: sourceLocation)
}

@Suite struct WireAnswerTests {
    @Test func anAllowCarriesEveryFieldItHas() throws {
        let d = Decision(allow: true, status: 200, reason: .ok, plugin: "jwt_hmac",
                         headers: [("x-auth-subject", "alice"), ("x-auth-role", "admin")], ttl: 30)
        let o = try answer(d, id: "q1")
        #expect(o.members.map(\.key) == ["id", "allow", "status", "reason", "plugin", "headers", "ttl"])
        #expect(o["id"] == "q1")
        #expect(o["allow"] == true)
        #expect(o["status"]?.numberValue?.int64 == 200)
        #expect(o["reason"] == "ok")
        #expect(o["plugin"] == "jwt_hmac")
        #expect(o["headers"] == ["x-auth-subject": "alice", "x-auth-role": "admin"])
        #expect(o["ttl"]?.numberValue?.int64 == 30)
    }

    @Test func idIsPresentOnlyWhenSentAndEchoedExactly() throws {
        let d = Decision(allow: false, status: 403, reason: .ipNotAllowed, plugin: "ip_allowlist")
        #expect(try answer(d, id: nil)["id"] == nil)
        let big = JSONValue.number(JSONNumber(text: "123456789012345678901", double: 1.2345678901234568e20))
        var b = ByteBuffer()
        WireAnswer.encode(d, id: big, into: &b)
        #expect(String(buffer: b).hasPrefix(#"{"id":123456789012345678901,"#))
        #expect(try answer(d, id: "s\"q")["id"] == "s\"q")
    }

    @Test func pluginIsAbsentWhenNil() throws {
        let o = try answer(.refused(.unknownApp, message: "no app named x"), id: 1)
        #expect(o["plugin"] == nil)
        #expect(o["status"]?.numberValue?.int64 == 403)
        #expect(o["reason"] == "unknown_app")
        #expect(o["allow"] == false)
        #expect(o["message"] == "no app named x")
    }

    @Test func badRequestAndLineTooLongHaveStatus400AndNoPlugin() throws {
        for reason in [Reason.badRequest, .lineTooLong] {
            let o = try answer(.refused(reason, message: "m"), id: nil)
            #expect(o["status"]?.numberValue?.int64 == 400)
            #expect(o["plugin"] == nil)
            #expect(o["reason"] == .string(reason.code))
        }
    }

    @Test func ttlOnlyOnAnAllowAboveZero() throws {
        let allow0 = Decision(allow: true, status: 200, reason: .ok, plugin: "p", ttl: 0)
        #expect(try answer(allow0, id: nil)["ttl"] == nil)
        let allowNil = Decision(allow: true, status: 200, reason: .ok, plugin: "p", ttl: nil)
        #expect(try answer(allowNil, id: nil)["ttl"] == nil)
        let deny = Decision(allow: false, status: 401, reason: .tokenExpired, plugin: "p", ttl: 30)
        #expect(try answer(deny, id: nil)["ttl"] == nil)
        let allow5 = Decision(allow: true, status: 200, reason: .ok, plugin: "p", ttl: 5)
        #expect(try answer(allow5, id: nil)["ttl"]?.numberValue?.int64 == 5)
    }

    @Test func messageAndHeadersAreOmittedWhenEmptyAndEscapedWhenNot() throws {
        let plain = try answer(Decision(allow: true, status: 200, reason: .ok, plugin: "p"), id: nil)
        #expect(plain["message"] == nil)
        #expect(plain["headers"] == nil)
        let d = Decision(allow: false, status: 401, reason: .noToken, plugin: "jwt_hmac", message: "line\nbreak \"q\"",
                         headers: [("www-authenticate", "Bearer realm=\"app\"")])
        let o = try answer(d, id: nil)
        #expect(o["message"] == "line\nbreak \"q\"")
        #expect(o["headers"] == ["www-authenticate": "Bearer realm=\"app\""])
    }

    @Test func okAnswersForPingAndStats() throws {
        var b = ByteBuffer()
        WireAnswer.encodeOK(id: "p", into: &b)
        #expect(String(buffer: b) == "{\"id\":\"p\",\"ok\":true}\n")
        b = ByteBuffer()
        WireAnswer.encodeOK(id: nil, into: &b)
        #expect(String(buffer: b) == "{\"ok\":true}\n")
        b = ByteBuffer()
        WireAnswer.encodeOK(id: 4, stats: ["uptime": 12], into: &b)
        #expect(String(buffer: b) == "{\"id\":4,\"ok\":true,\"stats\":{\"uptime\":12}}\n")
    }

    @Test func everyReasonHasTheStatusTheSpecPairsWithIt() {
        let expected: [String: Int] = [
            "ok": 200, "ip_not_allowed": 403, "unknown_app": 403, "bad_request": 400, "line_too_long": 400,
            "jwks_unavailable": 503, "no_token": 401, "malformed_token": 401, "alg_not_allowed": 401,
            "bad_signature": 401, "token_expired": 401, "token_not_yet_valid": 401, "bad_issuer": 401,
            "bad_audience": 401, "missing_claim": 401, "unknown_kid": 401, "no_decision": 401,
            "insufficient_scope": 403, "token_inactive": 401, "introspection_unavailable": 503,
        ]
        #expect(Set(Reason.all.map(\.code)) == Set(expected.keys))
        for r in Reason.all { #expect(r.defaultStatus == expected[r.code], "\(r)") }
    }
}
