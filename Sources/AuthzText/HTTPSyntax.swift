/// Small pieces of HTTP syntax (RFC 9110) that configuration checks and parsers share.
public enum HTTPSyntax {
    /// Whether `s` is an RFC 9110 §5.6.2 `token` (a header name or a method): one or more of
    /// letters, digits and ``!#$%&'*+-.^_`|~``. Anything else (space, `:`, a control, non-ASCII)
    /// cannot stand as a field name on the wire.
    public static func isToken(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy(isTokenByte)
    }

    /// Whether one byte is an RFC 9110 `tchar`.
    public static func isTokenByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "a")...UInt8(ascii: "z"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// `text` without leading and trailing spaces and horizontal tabs (RFC 9110 `OWS`), as around
    /// a header value or each item of a comma-separated list. Other whitespace is kept: a line
    /// ending inside a value is not padding.
    public static func trimmingOWS(_ text: Substring) -> Substring {
        var s = text
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}
