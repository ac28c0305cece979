import AuthzCore
import AuthzJSON
import AuthzWire
import NIOCore
import Testing

/// Answers as clients read them, from lines the daemon's own encoder wrote.
@Suite struct WireAnswerDecodingTests {
    private func line(_ write: (inout ByteBuffer) -> Void) -> [UInt8] {
        var b = ByteBuffer()
        write(&b)
        let bytes = Array(b.readableBytesView)
        #expect(bytes.last == 0x0A)
        return Array(bytes.dropLast())
    }

    @Test func aDecisionDecodesToTheCheckAnswerItSays() throws {
        let d = Decision(allow: true, status: 200, reason: .ok, plugin: "jwt_hmac", message: "fine",
                         headers: [("x-auth-subject", "al\"ice")], ttl: 30)
        let answer = try WireAnswer.decode(line { WireAnswer.encode(d, id: 7, into: &$0) })
        #expect(answer == .check(CheckAnswer(
            id: 7, allow: true, status: 200, reason: "ok", plugin: "jwt_hmac", message: "fine",
            headers: [HeaderField(name: "x-auth-subject", value: "al\"ice")], ttl: 30)))
        #expect(answer.id == 7)
    }

    /// Strings made only of characters that must be escaped take six bytes each: the line is
    /// still whole however the fields grow, and any id type is written.
    @Test(arguments: [JSONValue?.none, "\u{1}\"\\", 12.5, .bool(true), .array([1, "x"])])
    func everyFieldEscapesFullyWithAnyId(_ id: JSONValue?) throws {
        let nasty = String(repeating: "\u{1}\u{1f}\"\\\n", count: 300)
        let d = Decision(allow: true, status: 200, reason: .ok, plugin: nasty, message: nasty,
                         headers: [(nasty, nasty), ("x", "é\u{7f}")], ttl: Int.max)
        let bytes = line { WireAnswer.encode(d, id: id, into: &$0) }
        #expect(!bytes.contains(0x0A))
        let object = try #require(try JSONParser.parse(bytes, options: .init(rejectDuplicateKeys: true)).objectValue)
        #expect(object["id"] == id)
        #expect(object["plugin"] == .string(nasty))
        #expect(object["message"] == .string(nasty))
        #expect(object["headers"] == .object(JSONObject([(nasty, .string(nasty)), ("x", "é\u{7f}")])))
        #expect(object["ttl"]?.numberValue?.text == String(Int.max))
        #expect(object["status"] == 200)
    }

    @Test func aRefusalWithoutIdDecodesWithoutOne() throws {
        let answer = try WireAnswer.decode(line { WireAnswer.encode(.refused(.lineTooLong, message: "m"), id: nil, into: &$0) })
        guard case .check(let a) = answer else {
            Issue.record("not a check answer: \(answer)")
            return
        }
        #expect(a.id == nil)
        #expect(!a.allow)
        #expect(a.status == 400)
        #expect(a.reason == "line_too_long")
        #expect(a.plugin == nil)
    }

    @Test func okAnswersDecodeWithTheirStats() throws {
        #expect(try WireAnswer.decode(line { WireAnswer.encodeOK(id: "p", into: &$0) }) == .ok(id: "p", stats: nil))
        let stats: JSONValue = ["uptime_seconds": 3, "apps": ["a": ["allowed": 1]]]
        #expect(try WireAnswer.decode(line { WireAnswer.encodeOK(id: 2, stats: stats, into: &$0) }) == .ok(id: 2, stats: stats))
    }

    /// An object in an answer's place that is not a usable answer still answers its line (the
    /// client keeps the stream aligned); only a line that is not a JSON object is an error.
    @Test func anObjectThatIsNoAnswerIsUnusableButKeepsItsId() throws {
        let answer = try WireAnswer.decode(Array(#"{"id":5,"allow":true}"#.utf8))
        guard case .unusable(let id, let error) = answer else {
            Issue.record("expected unusable, got \(answer)")
            return
        }
        #expect(id == 5)
        #expect(error.code == .notACheckAnswer)
    }

    @Test(arguments: ["", "nope", "{", "[1]", "\"s\""])
    func aLineThatIsNotAnObjectIsAnError(_ text: String) {
        #expect(throws: WireError.self) { try WireAnswer.decode(Array(text.utf8)) }
    }
}

/// The load generator's allocation-free reading of an answer: its id and its allow.
@Suite struct AnswerSummaryTests {
    private func summary(_ text: String) -> AnswerSummary? {
        Array(text.utf8).withUnsafeBytes { AnswerSummary.scan($0) }
    }

    @Test func idAndAllowOfEncodedAnswers() {
        var b = ByteBuffer()
        WireAnswer.encode(Decision(allow: true, status: 200, reason: .ok, plugin: "p", headers: [("a", "{\"x\":[1]}")]),
                          id: 12, into: &b)
        let text = String(buffer: b).dropLast()
        #expect(summary(String(text)) == AnswerSummary(id: 12, allow: true))
        #expect(summary(String(text) + "\r") == AnswerSummary(id: 12, allow: true))
        #expect(summary(#"{"allow":false,"status":401,"reason":"no_token"}"#) == AnswerSummary(id: nil, allow: false))
        #expect(summary(#"{"id":"s","ok":true}"#) == AnswerSummary(id: nil, allow: nil))
    }

    @Test(arguments: ["", "{", #"{"id":1,}"#, #"{"id":1} x"#, "[1]", #"{"id":01}"#, #"{"a":"\q"}"#, "{\"a\":\"\u{1}\"}"])
    func malformedLinesHaveNoSummary(_ text: String) {
        #expect(summary(text) == nil)
    }
}
