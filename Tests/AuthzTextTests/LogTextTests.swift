import AuthzText
import Testing

@Suite struct LogTextTests {
    @Test func printableTextIsKeptAsItIs() {
        for s in ["LiveApp", "café-Ünïcode", "/LiveApp/rest/v2/broadcasts/create?x=1", ""] {
            #expect(LogText.escaped(s) == s)
        }
    }

    @Test func lineBreaksCannotEndARecord() {
        let forged = "LiveApp\nallow app=admin reason=ok"
        let out = LogText.escaped(forged)
        #expect(!out.contains("\n"))
        #expect(out == "LiveApp\\nallow app=admin reason=ok")
        #expect(LogText.escaped("a\r\nb") == "a\\r\\nb")
        #expect(LogText.escaped("a\u{2028}b\u{2029}c") == "a\\u{2028}b\\u{2029}c")
    }

    @Test func everyC0C1AndDeleteIsEscaped() {
        for v in Array(0x00...0x1F) + [0x7F] + Array(0x80...0x9F) {
            let s = "a" + String(Unicode.Scalar(UInt32(v))!) + "b"
            let out = LogText.escaped(s)
            #expect(out.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F && !(0x80...0x9F).contains($0.value) },
                    "U+\(String(v, radix: 16)) survived as \(out.debugDescription)")
            #expect(out.hasPrefix("a\\") && out.hasSuffix("b"))
        }
        #expect(LogText.escaped("\u{1B}[31m") == "\\x1B[31m")
        #expect(LogText.escaped("\u{9B}31m") == "\\u{009B}31m")
    }

    @Test func bidirectionalOverridesAreEscaped() {
        #expect(LogText.escaped("evil\u{202E}ppa") == "evil\\u{202E}ppa")
        #expect(LogText.escaped("\u{2066}x\u{2069}") == "\\u{2066}x\\u{2069}")
    }

    @Test func backslashIsDoubledSoInputCannotForgeAnEscape() {
        #expect(LogText.escaped("a\\nb") == "a\\\\nb")
        #expect(LogText.escaped("a\\nb") != LogText.escaped("a\nb"))
    }

    @Test func fieldQuotesValuesThatCouldPassForSeveralFields() {
        #expect(LogText.field("LiveApp") == "LiveApp")
        #expect(LogText.field("LiveApp reason=ok status=200 decision=allow")
                == "\"LiveApp reason=ok status=200 decision=allow\"")
        #expect(LogText.field("a=b") == "\"a=b\"")
        #expect(LogText.field("") == "\"\"")
        #expect(LogText.field("say \"hi\"") == "\"say \\\"hi\\\"\"")
        #expect(LogText.field("x y\nz") == "\"x y\\nz\"")
    }
}
