import AuthzJSON
import JOSE
import Testing

/// Skip lines reach the logs; the kid in them comes from a fetched document.
@Suite struct JWKSetSkipLineTests {
    private func skipLine(kid: String) throws -> String {
        let doc = JSONValue.object(JSONObject([("keys", .array([
            .object(JSONObject([("kty", "oct"), ("kid", .string(kid))])),
        ]))]))
        let set = try JWKSet.parse(Array(doc.jsonString.utf8))
        return try #require(set.skipped.first)
    }

    @Test func aKidIsQuotedAndEscaped() throws {
        #expect(try skipLine(kid: "k1") == #"key #0 (kid "k1"): kty oct is not supported"#)
        #expect(try skipLine(kid: "a\nkey #1: ok \u{9B}") == #"key #0 (kid "a\nkey #1: ok \u{009B}"): kty oct is not supported"#)
        #expect(try skipLine(kid: #"say "hi""#) == #"key #0 (kid "say \"hi\""): kty oct is not supported"#)
    }

    @Test func aLongKidIsShortened() throws {
        let line = try skipLine(kid: String(repeating: "k", count: 10_000))
        #expect(line == "key #0 (kid \"" + String(repeating: "k", count: 64) + "…\"): kty oct is not supported")
    }
}
