import AuthzText

/// A configuration problem, located by file and line, printed as `FILE:LINE: message`.
public struct ConfigError: Error, Sendable, CustomStringConvertible, Equatable {
    public let file: String
    public let line: Int
    /// The message as written, with any name or value it quotes unescaped.
    public let message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    /// `FILE:LINE: message` on one line: the file name and the message are escaped (`LogText`),
    /// so a file, app or key name holding a newline or a control character cannot start a line
    /// of its own or pass for another error.
    public var description: String { "\(LogText.escaped(file)):\(line): \(Self.shown(message))" }

    /// The message with every control character escaped but its backslashes as written: messages
    /// quote TOML, whose own escapes (`invalid escape sequence '\q' (valid: \b \t …)`, a quoted
    /// key `"a\\b"`) would read wrong doubled. The file name, which programs split on, is
    /// escaped in full.
    static func shown(_ message: String) -> String {
        guard message.contains("\\") else { return LogText.escaped(message) }
        return message.split(separator: "\\", omittingEmptySubsequences: false)
            .map { LogText.escaped(String($0)) }
            .joined(separator: "\\")
    }
}

/// Every problem found while loading one configuration; it is applied only when this is empty.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    /// In file order (the main file first, then the apps directory's files by name), then by line.
    public let errors: [ConfigError]

    public init(_ errors: [ConfigError]) { self.errors = errors }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
