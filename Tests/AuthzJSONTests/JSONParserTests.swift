import AuthzJSON
import Testing

/// The parse error for `text`; records an issue when it parses.
private func refusal(_ text: String, options: JSONParser.Options = .init(),
                     sourceLocation: SourceLocation = #_sourceLocation) -> JSONError? {
    do {
        let v = try JSONParser.parse(text, options: options)
        Issue.record("expected \(text.debugDescription) to be refused, got \(v)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// `depth` arrays nested inside each other.
private func nestedArrays(_ depth: Int) -> String {
    String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
}

@Suite struct JSONParserTests {
    @Test func parsesEveryKindOfValue() throws {
        let v = try JSONParser.parse(#" {"a": [1, -2.5e3, true, false, null], "b": {"c": "d"}} "#)
        #expect(v == ["a": [1, .number(JSONNumber(text: "-2.5e3", double: -2500)), true, false, nil], "b": ["c": "d"]])
    }

    @Test func objectsKeepMembersInDocumentOrder() throws {
        let o = try #require(try JSONParser.parse(#"{"z":1,"a":2,"m":3}"#).objectValue)
        #expect(o.members.map(\.key) == ["z", "a", "m"])
    }

    @Test func duplicateMembersAreRefusedOnlyWhenAsked() throws {
        let text = #"{"alg":"HS256","alg":"none"}"#
        // Without the option the first member wins on lookup and both are kept.
        let lenient = try JSONParser.parse(text)
        #expect(lenient["alg"] == "HS256")
        #expect(lenient.objectValue?.count == 2)
        let error = refusal(text, options: .init(rejectDuplicateKeys: true))
        #expect(error?.message.contains("duplicate") == true)
    }

    @Test func duplicatesAreFoundInNestedObjects() {
        #expect(refusal(#"{"a":{"b":1,"b":2}}"#, options: .init(rejectDuplicateKeys: true)) != nil)
    }

    @Test func duplicatesSpelledWithEscapesAreStillDuplicates() {
        // "\u0061" is "a": comparing raw text would let a second "a" through.
        #expect(refusal(#"{"a":1,"\u0061":2}"#, options: .init(rejectDuplicateKeys: true)) != nil)
    }

    @Test func nestingUpToTheLimitIsAccepted() throws {
        _ = try JSONParser.parse(nestedArrays(32))
        _ = try JSONParser.parse(nestedArrays(4), options: .init(maxDepth: 4))
    }

    @Test func nestingBeyondTheLimitIsRefused() {
        #expect(refusal(nestedArrays(33))?.message.contains("deep") == true)
        #expect(refusal(nestedArrays(5), options: .init(maxDepth: 4)) != nil)
        #expect(refusal(#"{"a":{"b":{"c":{}}}}"#, options: .init(maxDepth: 3)) != nil)
    }

    @Test func hostileNestingDoesNotExhaustTheStack() {
        #expect(refusal(String(repeating: "[", count: 1_000_000)) != nil)
    }

    @Test func surrogatePairsDecode() throws {
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == "😀")
        #expect(try JSONParser.parse(#""\u00e9\u20AC""#) == "é€")
    }

    @Test(arguments: [
        #""\ud83d""#,            // high surrogate at the end
        #""\ud83dx""#,           // high surrogate followed by a plain character
        #""\ud83d\u0041""#,      // high surrogate followed by a non-surrogate escape
        #""\ude00""#,            // low surrogate alone
        #""\ude00\ud83d""#,      // pair in the wrong order
    ])
    func loneSurrogatesAreRefused(_ text: String) {
        #expect(refusal(text) != nil)
    }

    @Test func rawControlCharactersInStringsAreRefused() {
        for c in [0x00, 0x01, 0x09, 0x0A, 0x0D, 0x1F] {
            let text = "\"a" + String(UnicodeScalar(UInt8(c))) + "b\""
            #expect(refusal(text)?.message.contains("control") == true, "byte \(c)")
            // Also after an escape, where the slow path runs.
            let escaped = "\"\\n" + String(UnicodeScalar(UInt8(c))) + "\""
            #expect(refusal(escaped) != nil, "byte \(c) after an escape")
        }
    }

    @Test func escapedControlCharactersAreFine() throws {
        #expect(try JSONParser.parse(#""\u0000\t\n\r\b\f\/\\\"""#) == .string("\u{0}\t\n\r\u{8}\u{C}/\\\""))
    }

    @Test(arguments: [#""\x""#, #""\u12""#, #""\u12G4""#, #""\""#, #""abc"#, #""\'""#])
    func badEscapesAndUnterminatedStringsAreRefused(_ text: String) {
        #expect(refusal(text) != nil)
    }

    @Test func invalidUTF8IsRefused() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0x5C, 0x6E, 0xED, 0xA0, 0x80, 0x22]] {
            #expect(throws: JSONError.self) { try JSONParser.parse(bytes) }
        }
    }

    @Test(arguments: ["01", "-01", "00", "[01]", #"{"a":007}"#])
    func leadingZerosAreRefused(_ text: String) {
        #expect(refusal(text) != nil)
    }

    @Test(arguments: ["1.", ".5", "-", "+1", "1e", "1e+", "0x10", "1.e3", "NaN", "Infinity", "-Infinity", "1e400"])
    func malformedNumbersAreRefused(_ text: String) {
        #expect(refusal(text) != nil)
    }

    @Test(arguments: ["{} x", "1 2", "[1]]", #"{"a":1}}"#, "true false", "nul", "truex", "[1,]", #"{"a":1,}"#, "", "   ", "[", #"{"a"}"#, "{1:2}"])
    func trailingGarbageAndBrokenStructureAreRefused(_ text: String) {
        #expect(refusal(text) != nil)
    }

    @Test func trailingGarbageErrorPointsAtIt() {
        #expect(refusal("{}  x")?.offset == 4)
    }

    @Test func numbersKeepTheirText() throws {
        for text in ["12345678901234567890123", "1.50", "-0", "1E+2", "0.1e-7", "9007199254740993"] {
            let n = try #require(try JSONParser.parse(text).numberValue)
            #expect(n.text == text)
        }
        // Beyond 2^53 the double rounds but the text, and so the echo, does not.
        let big = try #require(try JSONParser.parse("9007199254740993").numberValue)
        #expect(big.double == 9007199254740992)
        #expect(JSONValue.number(big).jsonString == "9007199254740993")
    }

    @Test func int64AcceptsOnlyWholeNumbers() throws {
        #expect(try JSONParser.parse("1700000000").numberValue?.int64 == 1_700_000_000)
        #expect(try JSONParser.parse("1.5").numberValue?.int64 == nil)
        #expect(try JSONParser.parse("1e30").numberValue?.int64 == nil)
    }

    @Test func whitespaceAroundTheValueIsAllowed() throws {
        #expect(try JSONParser.parse(" \t\r\n[ 1 , 2 ]\n ") == [1, 2])
    }
}
