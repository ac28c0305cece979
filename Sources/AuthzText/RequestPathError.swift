/// Why a request target cannot be normalised into a `RequestPath`. The message describes the
/// problem without quoting the target, which may carry a secret or hostile bytes.
public struct RequestPathError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem; a struct so that kinds can be added without breaking a `switch`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Kind: String, Sendable {
            case notAbsolute = "not_absolute"
            case fragment
            case encodedSeparator = "encoded_separator"
            case backslash
            case controlCharacter = "control_character"
            case malformedEscape = "malformed_escape"
            case invalidUTF8 = "invalid_utf8"
            case aboveRoot = "above_root"
        }

        private let kind: Kind
        private init(_ kind: Kind) { self.kind = kind }

        public var description: String { kind.rawValue }

        /// Does not start with `/` (empty, `*`, an absolute URI).
        public static let notAbsolute = Code(.notAbsolute)
        /// Holds `#`, which a request target never carries.
        public static let fragment = Code(.fragment)
        /// `%2F` or `%5C`: a separator in disguise, which containers decode differently.
        public static let encodedSeparator = Code(.encodedSeparator)
        /// A raw `\`, which some containers read as `/`.
        public static let backslash = Code(.backslash)
        /// A control character, raw or percent-encoded (`%00`, `%0A`, `%7F`, C1 controls).
        public static let controlCharacter = Code(.controlCharacter)
        /// `%` not followed by two hex digits.
        public static let malformedEscape = Code(.malformedEscape)
        /// Percent-encoded bytes that are not UTF-8 (overlong forms such as `%C0%AE` included).
        public static let invalidUTF8 = Code(.invalidUTF8)
        /// A `..` segment that would climb above `/`.
        public static let aboveRoot = Code(.aboveRoot)
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
