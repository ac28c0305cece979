import AuthzText
import Testing

@Suite struct LogTextControlTests {
    @Test func escapedTextAndBackslashesHoldNoControl() {
        for s in ["LiveApp", #"a\nb"#, #"C:\path"#, "café", LogText.escaped("x\ny\u{9B}\u{202E}"), ""] {
            #expect(!LogText.holdsControl(s), "\(s.debugDescription)")
        }
    }

    @Test func everyCharacterEscapedWritesOtherThanBackslashIsAControl() {
        for v in Array(0x00...0x1F) + [0x7F] + Array(0x80...0x9F) + [0x2028, 0x2029, 0x200E, 0x200F, 0x202A, 0x202E, 0x2066, 0x2069, 0xFEFF] {
            let s = "a" + String(Unicode.Scalar(UInt32(v))!) + "b"
            #expect(LogText.holdsControl(s), "U+\(String(v, radix: 16))")
            #expect(LogText.escaped(s) != s)
        }
    }
}
