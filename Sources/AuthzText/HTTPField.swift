/// Byte-level checks and case folding for HTTP field names and values (RFC 9110 §5), shared by
/// the modules that read or write header lines. Names are tokens, so ASCII case folding is
/// exact for them and no Unicode case mapping is needed.
public enum HTTPField {
    /// RFC 9110 §5.6.2 `token`: one or more of `tchar`.
    public static func isToken(_ s: String) -> Bool {
        var any = false
        for c in s.utf8 {
            guard isTokenByte(c) else { return false }
            any = true
        }
        return any
    }

    /// RFC 9110 §5.6.2 `tchar`.
    @inlinable
    public static func isTokenByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// RFC 9110 §5.5 field value as far as framing goes: no control character other than tab
    /// (so no CR, LF or NUL) and no DEL.
    public static func isFieldValue(_ s: String) -> Bool {
        for c in s.utf8 where (c < 0x20 && c != 0x09) || c == 0x7F {
            return false
        }
        return true
    }

    /// ASCII lowercasing (only `A`–`Z` change). Returns the string itself when it holds no
    /// capital, without copying; otherwise one new string, written in place.
    public static func lowercased(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 &- 0x41 < 26 }) else { return s }
        return String(unsafeUninitializedCapacity: s.utf8.count) { out in
            var i = 0
            for c in s.utf8 {
                out[i] = c &- 0x41 < 26 ? c | 0x20 : c
                i += 1
            }
            return i
        }
    }

    /// Whether `s` equals `lowercase` (which must be lowercase ASCII) ignoring ASCII case.
    @inlinable
    public static func equalsIgnoringCase(_ s: String, _ lowercase: StaticString) -> Bool {
        var s = s
        return s.withUTF8 { equalsIgnoringCase($0, lowercase) }
    }

    /// Whether the bytes equal `lowercase` (which must be lowercase ASCII) ignoring ASCII case.
    @inlinable
    public static func equalsIgnoringCase(_ u: UnsafeBufferPointer<UInt8>, _ lowercase: StaticString) -> Bool {
        guard u.count == lowercase.utf8CodeUnitCount else { return false }
        let l = lowercase.utf8Start
        for i in 0..<u.count {
            let c = u[i]
            if (c &- 0x41 < 26 ? c | 0x20 : c) != l[i] { return false }
        }
        return true
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
