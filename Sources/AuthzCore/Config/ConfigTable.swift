import AuthzTOML

/// A TOML table being turned into typed settings. Every accessor marks its key as used;
/// `finish()` then reports any key nobody asked for, so a typo is an error and not a silent default.
/// Every error names the file and the line of the offending value.
///
/// A table also collects errors, so that one `check-config` run shows everything to fix: a parser
/// checks each key on its own (`attempt`), records what is wrong (`record`) and goes on; `finish()`
/// then throws if anything was recorded. A sub-table's errors count for its parents too, so the
/// root of a file ends up holding every error found in it.
public final class ConfigTable {
    public let file: String
    public let table: TOMLTable
    /// Where this table sits, for messages (`apps.web.chain[1]`).
    public let path: String
    private var used: Set<String> = []
    private let sink: ErrorSink

    public init(file: String, table: TOMLTable, path: String) {
        self.file = file
        self.table = table
        self.path = path
        self.sink = ErrorSink(parent: nil)
    }

    private init(file: String, table: TOMLTable, path: String, parent: ConfigTable) {
        self.file = file
        self.table = table
        self.path = path
        self.sink = ErrorSink(parent: parent.sink)
    }

    /// The errors recorded in this table and the tables read from it, in line order.
    public var errors: [ConfigError] {
        sink.errors.enumerated().sorted { a, b in
            a.element.line != b.element.line ? a.element.line < b.element.line : a.offset < b.offset
        }.map(\.element)
    }

    /// Records an error here (and in every enclosing table); the same error twice is kept once.
    public func record(_ error: ConfigError) {
        sink.record(error)
    }

    /// Runs one independent check; an error it throws is recorded and nil returned, so the
    /// checks after it still run.
    public func attempt<T>(_ body: () throws(ConfigError) -> T) -> T? {
        do {
            return try body()
        } catch {
            record(error)
            return nil
        }
    }

    /// The line of a key's value, or of the table when the key is absent.
    public func line(of key: String) -> Int {
        table[key]?.line ?? table.line
    }

    /// An error at a key's line.
    public func error(_ key: String?, _ message: String) -> ConfigError {
        ConfigError(file: file, line: key.map(line(of:)) ?? table.line, message: message)
    }

    public func has(_ key: String) -> Bool { table[key] != nil }

    private func node(_ key: String) -> TOMLNode? {
        used.insert(key)
        return table[key]
    }

    private func qualified(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private func typeError(_ key: String, _ expected: String, _ node: TOMLNode) -> ConfigError {
        ConfigError(file: file, line: node.line,
                    message: "\(qualified(key)) must be \(expected), not \(node.value.kindDescription)")
    }

    public func string(_ key: String) throws(ConfigError) -> String? {
        guard let n = node(key) else { return nil }
        guard case .string(let s) = n.value else { throw typeError(key, "a string", n) }
        return s
    }

    public func requiredString(_ key: String) throws(ConfigError) -> String {
        guard let s = try string(key) else { throw error(nil, "\(qualified(key)) is required") }
        return s
    }

    public func int(_ key: String, min: Int64? = nil, max: Int64? = nil) throws(ConfigError) -> Int? {
        guard let n = node(key) else { return nil }
        guard case .integer(let v) = n.value else { throw typeError(key, "an integer", n) }
        if let min, v < min { throw ConfigError(file: file, line: n.line, message: "\(qualified(key)) must be at least \(min)") }
        if let max, v > max { throw ConfigError(file: file, line: n.line, message: "\(qualified(key)) must be at most \(max)") }
        return Int(v)
    }

    public func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let n = node(key) else { return nil }
        guard case .bool(let v) = n.value else { throw typeError(key, "a boolean", n) }
        return v
    }

    /// An array of strings.
    public func stringList(_ key: String) throws(ConfigError) -> [String]? {
        guard let n = node(key) else { return nil }
        guard case .array(let items) = n.value else { throw typeError(key, "an array of strings", n) }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item.value else { throw typeError(key, "an array of strings", item) }
            out.append(s)
        }
        return out
    }

    /// A string or an array of strings (as `issuer` and `audience` allow).
    public func stringOrList(_ key: String) throws(ConfigError) -> [String]? {
        guard let n = table[key] else { used.insert(key); return nil }
        if case .string(let s) = n.value {
            used.insert(key)
            return [s]
        }
        return try stringList(key)
    }

    /// A sub-table (header form or inline).
    public func table(_ key: String) throws(ConfigError) -> ConfigTable? {
        guard let n = node(key) else { return nil }
        guard case .table(let t) = n.value else { throw typeError(key, "a table", n) }
        return ConfigTable(file: file, table: t, path: qualified(key), parent: self)
    }

    /// An array of tables (`[[key]]` or an array of inline tables).
    public func tableList(_ key: String) throws(ConfigError) -> [ConfigTable]? {
        guard let n = node(key) else { return nil }
        guard case .array(let items) = n.value else { throw typeError(key, "an array of tables", n) }
        var out: [ConfigTable] = []
        for (i, item) in items.enumerated() {
            guard case .table(let t) = item.value else { throw typeError(key, "an array of tables", item) }
            out.append(ConfigTable(file: file, table: t, path: "\(qualified(key))[\(i)]", parent: self))
        }
        return out
    }

    /// Marks a key as handled without reading it.
    public func markUsed(_ key: String) { used.insert(key) }

    /// Records every key outside `known` (besides those already read) as unknown, before anything
    /// else is validated, and marks them handled: a misspelt key is then reported as such, next
    /// to whatever its absence causes, and only once.
    public func rejectUnknownKeys(known: Set<String>) {
        for e in table.entries where !known.contains(e.key) && !used.contains(e.key) {
            record(unknownKey(e.key, e.node))
            used.insert(e.key)
        }
    }

    /// Records every key nobody read as unknown.
    public func reportUnknownKeys() {
        for e in table.entries where !used.contains(e.key) {
            record(unknownKey(e.key, e.node))
            used.insert(e.key)
        }
    }

    /// Records every key nobody read, then throws the first error recorded in this table or the
    /// tables read from it, if there is one.
    public func finish() throws(ConfigError) {
        reportUnknownKeys()
        if let first = errors.first { throw first }
    }

    private func unknownKey(_ key: String, _ node: TOMLNode) -> ConfigError {
        ConfigError(file: file, line: node.line, message: "unknown key \(qualified(key))")
    }
}

/// The errors recorded in one table and everything read from it.
private final class ErrorSink {
    let parent: ErrorSink?
    private(set) var errors: [ConfigError] = []

    init(parent: ErrorSink?) { self.parent = parent }

    func record(_ error: ConfigError) {
        if !errors.contains(error) { errors.append(error) }
        parent?.record(error)
    }
}
