/// Makes text that came from a client or a file safe to put inside one log record.
///
/// A value interpolated into a message must not be able to end the record (a line feed on
/// stderr or in journald's `MESSAGE`), to move the terminal (C0 and C1 controls such as ESC and
/// CSI), to reorder what a reader sees (bidirectional overrides), or to pass for another field
/// (`app=x reason=ok` inside an app name). `escaped` handles the first three; `field` also quotes,
/// for values that sit in a `key=value` message.
public enum LogText {
    /// The value with every control character (C0, DEL, C1), line and paragraph separator and
    /// bidirectional formatting character written as an escape (`\n`, `\r`, `\t`, `\xNN` or
    /// `\u{NNNN}`), and backslash doubled so an escape in the input cannot pass for one of ours.
    /// Printable text, non-ASCII letters included, is kept as it is.
    public static func escaped(_ value: String) -> String {
        guard value.utf8.contains(where: needsEscapeByte) else { return value }
        var out = ""
        out.reserveCapacity(value.utf8.count + 8)
        for scalar in value.unicodeScalars {
            appendEscaped(scalar, to: &out)
        }
        return out
    }

    /// `escaped`, and wrapped in double quotes (an inner `"` written `\"`) when the value is
    /// empty or holds a space, `=` or `"`, so that it always reads as exactly one field.
    public static func field(_ value: String) -> String {
        let quote = value.isEmpty || value.utf8.contains { $0 == 0x20 || $0 == 0x3D || $0 == 0x22 }
        guard quote else { return escaped(value) }
        var out = "\""
        for scalar in value.unicodeScalars {
            if scalar == "\"" {
                out += "\\\""
            } else {
                appendEscaped(scalar, to: &out)
            }
        }
        out += "\""
        return out
    }

    /// Whether the value holds a character `escaped` writes as an escape other than the
    /// backslash: a control character (C0, DEL, C1), a line or paragraph separator or a
    /// bidirectional formatting character. A log handler uses it to tell a message whose values
    /// were already escaped (it may hold backslashes) from one that would put a raw control
    /// character in a record.
    public static func holdsControl(_ value: String) -> Bool {
        guard value.utf8.contains(where: { needsEscapeByte($0) && $0 != 0x5C }) else { return false }
        return value.unicodeScalars.contains(where: isControl)
    }

    /// The characters `escaped` rewrites, the backslash aside.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00..<0x20, 0x7F,
             0x80..<0xA0,            // C1 controls (CSI is U+009B)
             0x2028, 0x2029,         // line and paragraph separators
             0x200E, 0x200F,         // left-to-right and right-to-left marks
             0x202A...0x202E,        // bidirectional embeddings and overrides
             0x2066...0x2069,        // bidirectional isolates
             0xFEFF:                 // byte order mark / zero-width no-break space
            return true
        default:
            return false
        }
    }

    /// Whether a byte may start something `escaped` rewrites: ASCII controls, DEL, backslash,
    /// and every non-ASCII lead byte (the scalar is then looked at whole).
    private static func needsEscapeByte(_ b: UInt8) -> Bool {
        b < 0x20 || b == 0x7F || b == 0x5C || b >= 0x80
    }

    private static func appendEscaped(_ scalar: Unicode.Scalar, to out: inout String) {
        switch scalar.value {
        case 0x0A: out += "\\n"
        case 0x0D: out += "\\r"
        case 0x09: out += "\\t"
        case 0x5C: out += "\\\\"
        case 0x00..<0x20, 0x7F:
            out += "\\x" + hex(scalar.value, width: 2)
        default:
            if isControl(scalar) {
                out += "\\u{" + hex(scalar.value, width: 4) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }

    private static func hex(_ v: UInt32, width: Int) -> String {
        let digits = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
