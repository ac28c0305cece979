/// A TOML value with the line it was written on, so configuration errors can name file and line.
public struct TOMLNode: Sendable, Equatable {
    public var value: TOMLValue
    /// 1-based line of the value (for a table: of its header, or of its first key when implicit).
    public var line: Int

    public init(_ value: TOMLValue, line: Int) {
        self.value = value
        self.line = line
    }
}

/// A TOML value.
public enum TOMLValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case bool(Bool)
    /// Offset date-times, local date-times, dates and times, kept as written.
    case datetime(String)
    case array([TOMLNode])
    case table(TOMLTable)

    /// A short name of the kind of value, for error messages ("a string", "an integer", ...).
    public var kindDescription: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .float: "a float"
        case .bool: "a boolean"
        case .datetime: "a date-time"
        case .array: "an array"
        case .table: "a table"
        }
    }
}

/// A TOML table: keys in document order, each with its node.
public struct TOMLTable: Sendable, Equatable {
    public var entries: [(key: String, node: TOMLNode)]
    /// 1-based line where the table starts (its header, or where it was first implied).
    public var line: Int

    public init(entries: [(key: String, node: TOMLNode)] = [], line: Int) {
        self.entries = entries
        self.line = line
    }

    /// The node stored under a key.
    public subscript(key: String) -> TOMLNode? {
        for e in entries where e.key == key { return e.node }
        return nil
    }

    public var keys: [String] { entries.map(\.key) }

    public static func == (lhs: TOMLTable, rhs: TOMLTable) -> Bool {
        lhs.line == rhs.line && lhs.entries.count == rhs.entries.count
            && zip(lhs.entries, rhs.entries).allSatisfy { $0.key == $1.key && $0.node == $1.node }
    }
}

/// A TOML syntax error with its position.
public struct TOMLParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let line: Int
    public let column: Int
    public let message: String

    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "\(line):\(column): \(message)" }
}
