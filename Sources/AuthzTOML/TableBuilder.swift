/// How a table came into existence. TOML's rules on what may later add to or redefine a table
/// depend on it, so the parser keeps this while building and drops it in the result.
enum TableOrigin {
    case root
    /// Defined by a `[header]` or as an element of a `[[header]]`.
    case header
    /// Created as a parent of a header (`[a.b]` implies `a`); a later `[a]` may still define it.
    case impliedByHeader
    /// Created by a dotted key (`a.b = 1` creates `a`); neither headers may redefine it nor may
    /// dotted keys from another section reach it.
    case dottedKey
    /// An inline table `{ ... }` under construction; once finished it is stored as a value.
    case inline
}

/// A mutable table used while parsing: references let headers reopen tables defined earlier.
final class TableBuilder {
    enum Item {
        /// A finished value, including arrays and inline tables, which can never be extended.
        case value(TOMLNode)
        case table(TableBuilder)
        case arrayOfTables(ArrayOfTablesBuilder)

        /// Line where this item was first defined, for "already defined at line N" messages.
        var line: Int {
            switch self {
            case .value(let node): node.line
            case .table(let table): table.line
            case .arrayOfTables(let array): array.line
            }
        }
    }

    var origin: TableOrigin
    var line: Int
    private(set) var order: [String] = []
    private(set) var items: [String: Item] = [:]

    init(origin: TableOrigin, line: Int) {
        self.origin = origin
        self.line = line
    }

    subscript(key: String) -> Item? { items[key] }

    /// Adds a key that is not present yet (callers check for duplicates to report them well).
    func add(_ key: String, _ item: Item) {
        precondition(items[key] == nil, "TableBuilder.add called for an existing key")
        order.append(key)
        items[key] = item
    }

    /// The immutable result, keys in document order.
    func build() -> TOMLTable {
        var table = TOMLTable(line: line)
        table.entries.reserveCapacity(order.count)
        for key in order {
            guard let item = items[key] else { continue }
            switch item {
            case .value(let node):
                table.entries.append((key: key, node: node))
            case .table(let sub):
                table.entries.append((key: key, node: TOMLNode(.table(sub.build()), line: sub.line)))
            case .arrayOfTables(let array):
                let elements = array.elements.map { TOMLNode(.table($0.build()), line: $0.line) }
                table.entries.append((key: key, node: TOMLNode(.array(elements), line: array.line)))
            }
        }
        return table
    }
}

/// An array of tables built from `[[header]]`s; unlike a static array it may be appended to.
final class ArrayOfTablesBuilder {
    /// Line of the first `[[header]]`.
    let line: Int
    var elements: [TableBuilder] = []

    init(line: Int) {
        self.line = line
    }
}
