import AuthzTOML

/// A TOML table being turned into typed settings. Every accessor marks its key as used;
/// `finish()` then reports any key nobody asked for, so a typo is an error and not a silent default.
/// Every error names the file and the line of the offending value.
public final class ConfigTable {
    public let file: String
    public let table: TOMLTable
    /// Where this table sits, for messages (`apps.web.chain[1]`).
    public let path: String
    private var used: Set<String> = []

    public init(file: String, table: TOMLTable, path: String) {
        self.file = file
        self.table = table
        self.path = path
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
        return ConfigTable(file: file, table: t, path: qualified(key))
    }

    /// An array of tables (`[[key]]` or an array of inline tables).
    public func tableList(_ key: String) throws(ConfigError) -> [ConfigTable]? {
        guard let n = node(key) else { return nil }
        guard case .array(let items) = n.value else { throw typeError(key, "an array of tables", n) }
        var out: [ConfigTable] = []
        for (i, item) in items.enumerated() {
            guard case .table(let t) = item.value else { throw typeError(key, "an array of tables", item) }
            out.append(ConfigTable(file: file, table: t, path: "\(qualified(key))[\(i)]"))
        }
        return out
    }

    /// Marks a key as handled without reading it.
    public func markUsed(_ key: String) { used.insert(key) }

    /// Fails on the first key outside `known` (besides those already read), before anything else
    /// is validated: a misspelt key is then reported as such, not as a missing one.
    public func rejectUnknownKeys(known: Set<String>) throws(ConfigError) {
        for e in table.entries where !known.contains(e.key) && !used.contains(e.key) {
            throw ConfigError(file: file, line: e.node.line, message: "unknown key \(qualified(e.key))")
        }
    }

    /// Fails on the first key nobody read.
    public func finish() throws(ConfigError) {
        for e in table.entries where !used.contains(e.key) {
            throw ConfigError(file: file, line: e.node.line, message: "unknown key \(qualified(e.key))")
        }
    }
}
