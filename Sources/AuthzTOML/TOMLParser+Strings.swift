/// The four TOML string forms. Each starts at its opening delimiter and returns the decoded text.
extension TOMLParser {
    /// `"..."` with escapes, on one line.
    mutating func parseBasicString() throws(TOMLParseError) -> String {
        let start = pos
        pos += 1
        var out: [UInt8] = []
        while true {
            guard let b = peek(), b != .lf, b != .cr else {
                throw error(at: start, "unterminated string (missing closing '\"')")
            }
            switch b {
            case .quote:
                pos += 1
                return String(decoding: out, as: UTF8.self)
            case .backslash:
                try parseEscape(into: &out)
            default:
                try appendPlain(b, to: &out)
            }
        }
    }

    /// `"""..."""` with escapes and line-ending backslashes; a newline right after the opening
    /// delimiter is dropped, CRLF becomes LF.
    mutating func parseMultilineBasicString() throws(TOMLParseError) -> String {
        let start = pos
        pos += 3
        try skipNewlineAfterOpeningDelimiter()
        var out: [UInt8] = []
        while true {
            guard let b = peek() else {
                throw error(at: start, "unterminated multi-line string (missing closing '\"\"\"')")
            }
            switch b {
            case .quote:
                if try closesMultilineString(quote: .quote, into: &out) {
                    return String(decoding: out, as: UTF8.self)
                }
            case .backslash:
                if isLineEndingBackslash() {
                    // Trims the newline and all whitespace up to the next visible character.
                    pos += 1
                    while let c = peek(), c == .space || c == .tab || c == .lf || c == .cr {
                        if c == .cr { try consumeNewline() } else { pos += 1 }
                    }
                } else {
                    try parseEscape(into: &out)
                }
            case .lf, .cr:
                try consumeNewline()
                out.append(.lf)
            default:
                try appendPlain(b, to: &out)
            }
        }
    }

    /// `'...'`, taken as written, on one line.
    mutating func parseLiteralString() throws(TOMLParseError) -> String {
        let start = pos
        pos += 1
        var out: [UInt8] = []
        while true {
            guard let b = peek(), b != .lf, b != .cr else {
                throw error(at: start, "unterminated string (missing closing \"'\")")
            }
            if b == .apostrophe {
                pos += 1
                return String(decoding: out, as: UTF8.self)
            }
            try appendPlain(b, to: &out)
        }
    }

    /// `'''...'''`, taken as written; a newline right after the opening delimiter is dropped.
    mutating func parseMultilineLiteralString() throws(TOMLParseError) -> String {
        let start = pos
        pos += 3
        try skipNewlineAfterOpeningDelimiter()
        var out: [UInt8] = []
        while true {
            guard let b = peek() else {
                throw error(at: start, "unterminated multi-line string (missing closing \"'''\")")
            }
            switch b {
            case .apostrophe:
                if try closesMultilineString(quote: .apostrophe, into: &out) {
                    return String(decoding: out, as: UTF8.self)
                }
            case .lf, .cr:
                try consumeNewline()
                out.append(.lf)
            default:
                try appendPlain(b, to: &out)
            }
        }
    }

    private mutating func skipNewlineAfterOpeningDelimiter() throws(TOMLParseError) {
        if peek() == .lf || peek() == .cr { try consumeNewline() }
    }

    /// At a run of quotes inside a multi-line string: up to two belong to the content, and
    /// three to five end it (the extra one or two quotes are content before the delimiter).
    private mutating func closesMultilineString(
        quote: UInt8, into out: inout [UInt8]
    ) throws(TOMLParseError) -> Bool {
        var count = 0
        while peek(count) == quote { count += 1 }
        if count < 3 {
            out.append(contentsOf: repeatElement(quote, count: count))
            pos += count
            return false
        }
        if count > 5 {
            throw error(at: pos + 5, "too many quotes: at most two may precede the closing delimiter")
        }
        out.append(contentsOf: repeatElement(quote, count: count - 3))
        pos += count
        return true
    }

    /// A backslash followed only by spaces or tabs up to the end of the line.
    private func isLineEndingBackslash() -> Bool {
        var i = 1
        while let c = peek(i), c == .space || c == .tab { i += 1 }
        return peek(i) == .lf || (peek(i) == .cr && peek(i + 1) == .lf)
    }

    /// Copies one content byte, refusing the control characters TOML requires to be escaped.
    private mutating func appendPlain(_ b: UInt8, to out: inout [UInt8]) throws(TOMLParseError) {
        if b.isForbiddenControl {
            throw error("control character \(Self.unicodeName(b)) must be escaped in a string")
        }
        out.append(b)
        pos += 1
    }

    /// `\b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX`; anything else is an error at the backslash.
    private mutating func parseEscape(into out: inout [UInt8]) throws(TOMLParseError) {
        let start = pos
        guard let c = peek(1) else { throw error("unterminated escape sequence at end of input") }
        if c == .lf || c == .cr {
            throw error("a backslash at the end of a line is only allowed in multi-line strings (\"\"\"...\"\"\")")
        }
        let simple: UInt8?
        switch c {
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "t"): simple = .tab
        case UInt8(ascii: "n"): simple = .lf
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "r"): simple = .cr
        case .quote: simple = .quote
        case .backslash: simple = .backslash
        default: simple = nil
        }
        if let simple {
            out.append(simple)
            pos += 2
            return
        }
        let digits: Int
        switch c {
        case UInt8(ascii: "u"): digits = 4
        case UInt8(ascii: "U"): digits = 8
        default:
            let shown: String
            switch c {
            case 0x21...0x7E: shown = "\\" + String(Character(Unicode.Scalar(c)))
            default: shown = "\\ followed by \(Self.unicodeName(c))"
            }
            throw error(
                at: start,
                "invalid escape sequence '\(shown)' (valid: \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX)")
        }
        var code: UInt32 = 0
        for i in 0..<digits {
            guard let h = peek(2 + i), let v = Self.hexValue(h) else {
                throw error(
                    at: start,
                    "invalid unicode escape: '\\\(Character(Unicode.Scalar(c)))' needs exactly \(digits) hexadecimal digits")
            }
            code = code << 4 | UInt32(v)
        }
        guard let scalar = Unicode.Scalar(code) else {
            let hex = String(code, radix: 16, uppercase: true)
            throw error(at: start, "invalid unicode escape: U+\(hex) is not a Unicode scalar value")
        }
        out.append(contentsOf: String(scalar).utf8)
        pos += 2 + digits
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
