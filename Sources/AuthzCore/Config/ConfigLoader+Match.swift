import AuthzTOML

extension ConfigLoader {
    /// Reads a step's `match` (SPEC §8), a key of the chain layer that every plugin's step may
    /// carry: `methods` and `paths`, each optional but at least one present and non-empty.
    /// Problems are recorded in `step` (each entry on its own line where the file gives one);
    /// nil when there is no `match` or it has a problem.
    static func readMatch(_ step: ConfigTable) -> StepMatch? {
        guard step.has("match") else { return nil }
        guard let m = step.attempt({ () throws(ConfigError) in try step.table("match") }) ?? nil else { return nil }
        let before = m.errors.count
        let methods = m.attempt { () throws(ConfigError) -> [String]? in
            guard let list = try m.stringList("methods") else { return nil }
            guard !list.isEmpty else { throw m.error("methods", "match.methods must not be empty (leave it out to match any method)") }
            for (i, method) in list.enumerated() where !StepMatch.isMethodToken(method) {
                m.record(ConfigError(file: m.file, line: itemLine(m, "methods", i),
                                     message: "match.methods entry \"\(method)\" is not an HTTP method"))
            }
            return list
        } ?? nil
        let paths = m.attempt { () throws(ConfigError) -> [PathPattern]? in
            guard let list = try m.stringList("paths") else { return nil }
            guard !list.isEmpty else { throw m.error("paths", "match.paths must not be empty (leave it out to match any path)") }
            var patterns: [PathPattern] = []
            for (i, text) in list.enumerated() {
                do throws(PathPattern.Invalid) {
                    patterns.append(try PathPattern(text))
                } catch {
                    m.record(ConfigError(file: m.file, line: itemLine(m, "paths", i),
                                         message: "match.paths entry \"\(text)\" \(error.message)"))
                }
            }
            return patterns
        } ?? nil
        if !m.has("methods") && !m.has("paths") {
            m.record(m.error(nil, "match needs methods, paths or both"))
        }
        m.reportUnknownKeys()
        guard m.errors.count == before else { return nil }
        return StepMatch(methods: methods, paths: paths)
    }

    /// The line of a list's entry (a list written over several lines has one per entry).
    private static func itemLine(_ t: ConfigTable, _ key: String, _ index: Int) -> Int {
        if let node = t.table[key], case .array(let items) = node.value, index < items.count { return items[index].line }
        return t.line(of: key)
    }
}
