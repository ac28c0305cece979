import AuthzCrypto
import AuthzJSON
@testable import JOSE
import Testing

/// A token from raw header and payload JSON text and any signature bytes: the parser checks shape,
/// not signatures, so strictness tests need no key.
func token(header: String, payload: String, signature: [UInt8] = [1, 2, 3]) -> String {
    Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8)) + "." + Base64URL.encode(signature)
}

func expectCode(_ code: JOSEError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws(JOSEError) -> Void) {
    do {
        try body()
        Issue.record("expected \(code), nothing thrown", sourceLocation: sourceLocation)
    } catch {
        #expect(error.code == code, "got \(error)", sourceLocation: sourceLocation)
    }
}

@Suite struct CompactJWSTests {
    @Test func wellFormedTokenExposesItsParts() throws {
        let t = token(header: #"{"alg":"HS256","typ":"JWT","kid":"k1"}"#, payload: #"{"sub":"alice","exp":1700000000}"#)
        let jws = try CompactJWS.parse(t)
        #expect(jws.algorithm == .hs256)
        #expect(jws.kid == "k1")
        #expect(jws.typ == "JWT")
        #expect(jws.claims["sub"] == "alice")
        #expect(jws.signature == [1, 2, 3])
        let lastDot = t.lastIndex(of: ".")!
        #expect(jws.signingInput == Array(t[..<lastDot].utf8))
    }

    @Test(arguments: ["none", "NONE", "nOnE", "None"])
    func algNoneInAnySpellingIsNotAllowed(alg: String) {
        expectCode(.algNotAllowed) { () throws(JOSEError) in
            _ = try CompactJWS.parse(token(header: #"{"alg":"\#(alg)"}"#, payload: "{}"))
        }
        // The classic unsigned form, with an empty signature, is refused too.
        expectCode(.malformedToken) { () throws(JOSEError) in
            _ = try CompactJWS.parse(token(header: #"{"alg":"\#(alg)"}"#, payload: "{}", signature: []))
        }
    }

    @Test func unknownOrMiscasedAlgIsNotAllowed() {
        for alg in ["hs256", "HS257", "RSA-OAEP", "es256", "EDDSA", ""] {
            expectCode(.algNotAllowed) { () throws(JOSEError) in
                _ = try CompactJWS.parse(token(header: #"{"alg":"\#(alg)"}"#, payload: "{}"))
            }
        }
    }

    @Test func missingOrNonStringAlgIsMalformed() {
        expectCode(.malformedToken) { () throws(JOSEError) in _ = try CompactJWS.parse(token(header: #"{"typ":"JWT"}"#, payload: "{}")) }
        expectCode(.malformedToken) { () throws(JOSEError) in _ = try CompactJWS.parse(token(header: #"{"alg":256}"#, payload: "{}")) }
    }

    @Test func paddedBase64URLIsRefused() {
        let header = Base64URL.encode(Array(#"{"alg":"HS256"}"#.utf8))
        let payload = Base64URL.encode(Array(#"{"a":1}"#.utf8))  // 7 bytes: would need one '='
        expectCode(.malformedToken) { () throws(JOSEError) in _ = try CompactJWS.parse(header + "." + payload + "=.AQID") }
        expectCode(.malformedToken) { () throws(JOSEError) in _ = try CompactJWS.parse(header + "." + payload + ".AQI=") }
    }

    @Test func nonCanonicalBase64URLIsRefused() throws {
        let good = token(header: #"{"alg":"HS256"}"#, payload: "{}", signature: [0xAB])
        _ = try CompactJWS.parse(good)
        // The signature "qw" encodes 0xAB; "qx" sets an unused bit and must not be a second spelling.
        #expect(good.hasSuffix(".qw"))
        expectCode(.malformedToken) { () throws(JOSEError) in _ = try CompactJWS.parse(good.dropLast() + "x") }
    }

    @Test func duplicateMemberNamesAreRefused() {
        expectCode(.malformedToken) { () throws(JOSEError) in
            _ = try CompactJWS.parse(token(header: #"{"alg":"HS256","alg":"RS256"}"#, payload: "{}"))
        }
        expectCode(.malformedToken) { () throws(JOSEError) in
            _ = try CompactJWS.parse(token(header: #"{"alg":"HS256"}"#, payload: #"{"sub":"a","sub":"b"}"#))
        }
    }

    @Test func critIsRefused() {
        for crit in [#"["exp"]"#, "[]", #""b64""#] {
            expectCode(.malformedToken) { () throws(JOSEError) in
                _ = try CompactJWS.parse(token(header: #"{"alg":"HS256","crit":\#(crit),"exp":1}"#, payload: "{}"))
            }
        }
    }

    @Test func unencodedPayloadIsRefused() {
        expectCode(.malformedToken) { () throws(JOSEError) in
            _ = try CompactJWS.parse(token(header: #"{"alg":"HS256","b64":false}"#, payload: "{}"))
        }
    }

    @Test func payloadThatIsNotAnObjectIsRefused() {
        for payload in ["[1,2]", "\"claims\"", "42", "null", "not json", ""] {
            expectCode(.malformedToken) { () throws(JOSEError) in
                _ = try CompactJWS.parse(token(header: #"{"alg":"HS256"}"#, payload: payload))
            }
        }
        expectCode(.malformedToken) { () throws(JOSEError) in _ = try CompactJWS.parse(token(header: "[]", payload: "{}")) }
    }

    @Test func oversizedTokenIsRefused() throws {
        let big = token(header: #"{"alg":"HS256"}"#, payload: #"{"pad":"\#(String(repeating: "x", count: 9000))"}"#)
        expectCode(.malformedToken) { () throws(JOSEError) in _ = try CompactJWS.parse(big) }
        // The same token is fine under a larger explicit limit.
        _ = try CompactJWS.parse(big, maxLength: 16384)
    }

    @Test func deeplyNestedJSONIsRefused() throws {
        let shallow = String(repeating: "[", count: 10) + String(repeating: "]", count: 10)
        _ = try CompactJWS.parse(token(header: #"{"alg":"HS256"}"#, payload: #"{"a":\#(shallow)}"#))
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        expectCode(.malformedToken) { () throws(JOSEError) in
            _ = try CompactJWS.parse(token(header: #"{"alg":"HS256"}"#, payload: #"{"a":\#(deep)}"#))
        }
    }

    @Test func wrongNumberOfPartsIsRefused() {
        let three = token(header: #"{"alg":"HS256"}"#, payload: "{}")
        let parts = three.split(separator: ".", omittingEmptySubsequences: false)
        expectCode(.malformedToken) { () throws(JOSEError) in _ = try CompactJWS.parse(parts[0] + "." + parts[1]) }
        expectCode(.malformedToken) { () throws(JOSEError) in _ = try CompactJWS.parse(three + ".AQID") }
        expectCode(.malformedToken) { () throws(JOSEError) in _ = try CompactJWS.parse(three + ".") }
        expectCode(.malformedToken) { () throws(JOSEError) in _ = try CompactJWS.parse(String(parts[0])) }
        expectCode(.malformedToken) { () throws(JOSEError) in _ = try CompactJWS.parse("") }
    }

    @Test func nonStringKidOrTypIsMalformed() {
        expectCode(.malformedToken) { () throws(JOSEError) in
            _ = try CompactJWS.parse(token(header: #"{"alg":"HS256","kid":7}"#, payload: "{}"))
        }
        expectCode(.malformedToken) { () throws(JOSEError) in
            _ = try CompactJWS.parse(token(header: #"{"alg":"HS256","typ":["JWT"]}"#, payload: "{}"))
        }
    }

    @Test func errorMessagesNeverContainTheToken() {
        let secretish = "s3cr3t-claim-value-xyz"
        let t = token(header: #"{"alg":"HS256"}"#, payload: #"{"sub":"\#(secretish)","sub":"x"}"#)
        do {
            _ = try CompactJWS.parse(t)
            Issue.record("duplicate claims were accepted")
        } catch {
            #expect(!error.message.contains(secretish))
            #expect(!error.message.contains(t))
        }
    }
}
