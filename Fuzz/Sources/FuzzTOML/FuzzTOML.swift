import AuthzTOML

/// TOML parser: no crash on any input; an error names a line and column inside the document;
/// every node's line is inside the document.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTOML(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let lines = text.utf8.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
    do {
        let table = try TOML.parse(text)
        check(table, lines: lines)
    } catch {
        guard error.line >= 1, error.line <= lines, error.column >= 1 else {
            fatalError("error position \(error.line):\(error.column) outside a document of \(lines) lines")
        }
    }
    return 0
}

private func check(_ table: TOMLTable, lines: Int) {
    guard table.line >= 1, table.line <= lines else { fatalError("table line \(table.line) of \(lines)") }
    for entry in table.entries { check(entry.node, lines: lines) }
}

private func check(_ node: TOMLNode, lines: Int) {
    guard node.line >= 1, node.line <= lines else { fatalError("node line \(node.line) of \(lines)") }
    switch node.value {
    case .table(let t): check(t, lines: lines)
    case .array(let a): for n in a { check(n, lines: lines) }
    default: break
    }
}
