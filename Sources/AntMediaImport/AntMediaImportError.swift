import AuthzText

/// Why one Ant Media app was not imported, located at the property's line of its
/// `red5-web.properties` (line 0 when the problem is the file or the app as a whole).
/// Printed as `FILE:LINE: message`, escaped like the configuration's errors.
public struct AntMediaImportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem; a struct so codes can be added without breaking a `switch`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable {
            case unreadableFile = "unreadable_file"
            case malformedProperties = "malformed_properties"
            case badAppName = "bad_app_name"
            case badBoolean = "bad_boolean"
            case shortSecret = "short_secret"
            case badSecret = "bad_secret"
            case noCredential = "no_credential"
            case badCIDR = "bad_cidr"
            case emptyAllowlist = "empty_allowlist"
            case unprotectedApp = "unprotected_app"
            case invalidStep = "invalid_step"
            case definedInline = "defined_inline"
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The file cannot be opened or read, or is too large.
        public static let unreadableFile = Code(.unreadableFile)
        /// `java.util.Properties` would refuse the file (a malformed `\uXXXX`).
        public static let malformedProperties = Code(.malformedProperties)
        /// The app's directory name is not an authzd app name.
        public static let badAppName = Code(.badAppName)
        /// A filter switch that is neither `true` nor `false`.
        public static let badBoolean = Code(.badBoolean)
        /// `jwtSecretKey` shorter than HS256's 32 bytes.
        public static let shortSecret = Code(.shortSecret)
        /// `jwtSecretKey` that cannot be carried over byte for byte.
        public static let badSecret = Code(.badSecret)
        /// The JWT filter is on with neither a secret nor a JWKS URL.
        public static let noCredential = Code(.noCredential)
        /// An entry of `remoteAllowedCIDR` that the `ip_allowlist` plugin refuses.
        public static let badCIDR = Code(.badCIDR)
        /// The IP filter is on with nothing in `remoteAllowedCIDR`.
        public static let emptyAllowlist = Code(.emptyAllowlist)
        /// Both filters are off: the app would have no chain steps.
        public static let unprotectedApp = Code(.unprotectedApp)
        /// A generated step that its plugin refuses (for example a `jwksURL` that is not a URL).
        public static let invalidStep = Code(.invalidStep)
        /// The main configuration already defines this app inline.
        public static let definedInline = Code(.definedInline)

        public var description: String { value.rawValue }
    }

    public let code: Code
    /// The `red5-web.properties` file (or the app directory for `badAppName`).
    public let file: String
    public let line: Int
    public let message: String

    public init(_ code: Code, file: String, line: Int, message: String) {
        self.code = code
        self.file = file
        self.line = line
        self.message = message
    }

    /// `FILE:LINE: message` on one line, with control characters escaped so a file name or a
    /// quoted value cannot start a line of its own.
    public var description: String { "\(LogText.escaped(file)):\(line): \(LogText.escaped(message))" }
}

/// Every reason one app was not imported, in line order.
public struct AntMediaImportErrors: Error, Sendable, Equatable, CustomStringConvertible {
    public let errors: [AntMediaImportError]

    public init(_ errors: [AntMediaImportError]) {
        self.errors = errors.enumerated().sorted { a, b in
            a.element.line != b.element.line ? a.element.line < b.element.line : a.offset < b.offset
        }.map(\.element)
    }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
