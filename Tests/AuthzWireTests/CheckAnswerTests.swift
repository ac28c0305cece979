import AuthzJSON
import AuthzWire
import Testing

@Suite struct CheckAnswerTests {
    func answer(_ text: String) throws(WireError) -> CheckAnswer {
        try CheckAnswer(line: Array(text.utf8))
    }

    @Test func allowAnswerKeepsStatusReasonHeadersAndTTL() throws {
        let a = try answer(
            #"{"id":3,"allow":true,"status":200,"reason":"ok","plugin":"jwt_hmac","message":"m","headers":{"x-auth-subject":"alice"},"ttl":30}"#
                + "\r")
        #expect(
            a
                == CheckAnswer(
                    id: 3, allow: true, status: 200, reason: "ok", plugin: "jwt_hmac", message: "m",
                    headers: [HeaderField(name: "x-auth-subject", value: "alice")], ttl: 30))
    }

    @Test func answerWithoutOptionalFieldsHasNoHeadersAndNoTTL() throws {
        let a = try answer(#"{"allow":false,"status":403,"reason":"unknown_app"}"#)
        #expect(a == CheckAnswer(allow: false, status: 403, reason: "unknown_app"))
    }

    @Test(arguments: [
        "not json", "[1]", #"{"allow":true,"reason":"ok"}"#, #"{"allow":true,"status":"200","reason":"ok"}"#,
        #"{"allow":true,"status":99,"reason":"ok"}"#, #"{"allow":true,"status":200}"#,
        #"{"allow":true,"status":200,"reason":"ok","headers":{"a":1}}"#,
        #"{"allow":true,"status":200,"reason":"ok","ttl":"5"}"#, #"{"id":1,"ok":true}"#,
    ])
    func somethingThatIsNotACheckAnswerIsRefused(_ text: String) {
        #expect(throws: WireError.self) { try answer(text) }
    }
}
