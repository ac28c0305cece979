import AuthzTOML
import Testing

/// The node at a dotted path of plain keys; array elements are addressed by their index.
func lookup(_ table: TOMLTable, _ path: String...) -> TOMLNode? {
    var node = TOMLNode(.table(table), line: table.line)
    for key in path {
        switch node.value {
        case .table(let t):
            guard let next = t[key] else { return nil }
            node = next
        case .array(let elements):
            guard let i = Int(key), elements.indices.contains(i) else { return nil }
            node = elements[i]
        default:
            return nil
        }
    }
    return node
}

/// The error a document must produce; records an issue when it parses.
func parseError(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> TOMLParseError? {
    do {
        let table = try TOML.parse(text)
        Issue.record("expected a parse error, got \(table)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}
