/// Why the shim refused a subrequest itself, without asking authzd.
///
/// The mapping headers (SPEC §5) are written by nginx from values a client may shape (the app is
/// often cut out of the URL, where `%0D%0A` decodes to a line break). A subrequest whose mapping
/// headers are missing, repeated or hold control characters may carry injected header lines, so
/// it is refused as a whole rather than repaired.
public struct SubrequestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was wrong; a struct over a private enum so codes can be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: Hashable {
            case missingApp, invalidApp, repeatedHeader, controlCharacter
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// No `X-Authz-App`.
        public static let missingApp = Code(.missingApp)
        /// `X-Authz-App` is not 1 to 64 of `A-Z a-z 0-9 . _ -`.
        public static let invalidApp = Code(.invalidApp)
        /// A mapping header came more than once.
        public static let repeatedHeader = Code(.repeatedHeader)
        /// A mapping header holds a control character (CR, LF, NUL, tab, DEL, ...).
        public static let controlCharacter = Code(.controlCharacter)

        public var description: String {
            switch value {
            case .missingApp: "missing_app"
            case .invalidApp: "invalid_app"
            case .repeatedHeader: "repeated_header"
            case .controlCharacter: "control_character"
            }
        }
    }

    public let code: Code
    /// The header concerned, as nginx spelled it.
    public let header: String
    /// The offending value, escaped and shortened so it is safe to log as is.
    public let value: String

    public init(_ code: Code, header: String, value: String = "") {
        self.code = code
        self.header = header
        self.value = Self.escaped(value)
    }

    public var description: String {
        value.isEmpty ? "\(code): \(header)" : "\(code): \(header): \"\(value)\""
    }

    /// Printable ASCII as is (with `\` and `"` escaped); every other byte as `\xNN`. At most
    /// `limit` input bytes are shown, so a log line stays short whatever a client sent.
    static func escaped(_ s: String, limit: Int = 96) -> String {
        var out = ""
        var shown = 0
        for b in s.utf8 {
            if shown == limit {
                out += "...(\(s.utf8.count) bytes)"
                break
            }
            shown += 1
            switch b {
            case UInt8(ascii: "\\"): out += "\\\\"
            case UInt8(ascii: "\""): out += "\\\""
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = Array("0123456789abcdef".unicodeScalars)
                out += "\\x"
                out.unicodeScalars.append(hex[Int(b >> 4)])
                out.unicodeScalars.append(hex[Int(b & 0xF)])
            }
        }
        return out
    }
}
