import AuthzTOML
import Testing

/// Keys, headers and the lines TOML tables get from the way they were defined.
@Suite struct TOMLTableTests {
    @Test func bareQuotedAndDottedKeysNestTables() throws {
        let root = try TOML.parse(#"""
            bare_key-1 = 1
            "quoted key" = 2
            'literal "key"' = 3
            "" = 4
            site . "google.com" . ok = true
            1234 = 5
            """#)
        #expect(root.keys == ["bare_key-1", "quoted key", #"literal "key""#, "", "site", "1234"])
        #expect(lookup(root, "site", "google.com", "ok") == TOMLNode(.bool(true), line: 5))
        #expect(lookup(root, "site")?.line == 5)
        #expect(lookup(root, "")?.value == .integer(4))
    }

    @Test func dottedKeysInOneTableShareTheirImpliedTables() throws {
        let root = try TOML.parse("""
            [fruit]
            apple.color = "red"

            apple.taste.sweet = true
            [fruit.apple.texture]
            smooth = true
            """)
        // `apple` is first implied on line 2 and keeps that line.
        #expect(lookup(root, "fruit", "apple")?.line == 2)
        #expect(lookup(root, "fruit", "apple", "taste")?.line == 4)
        #expect(lookup(root, "fruit", "apple", "taste", "sweet") == TOMLNode(.bool(true), line: 4))
        #expect(lookup(root, "fruit", "apple", "texture")?.line == 5)
        #expect(lookup(root, "fruit", "apple", "texture", "smooth") == TOMLNode(.bool(true), line: 6))
    }

    @Test func tableImpliedByAHeaderTakesTheLineOfItsOwnHeaderOnceDefined() throws {
        let root = try TOML.parse("""
            [x.y.z]
            a = 1

            [x]
            b = 2
            """)
        #expect(lookup(root, "x")?.line == 4)
        #expect(lookup(root, "x", "y")?.line == 1)
        #expect(lookup(root, "x", "y", "z")?.line == 1)
        guard case .table(let x)? = lookup(root, "x")?.value else {
            Issue.record("x is not a table")
            return
        }
        #expect(x.keys == ["y", "b"])
    }

    @Test func arrayOfTablesElementsCarryTheirHeaderLinesAndSubtables() throws {
        let root = try TOML.parse("""
            [[fruits]]
            name = "apple"

            [fruits.physical]
            color = "red"

            [[fruits.varieties]]
            name = "red delicious"

            [[fruits.varieties]]
            name = "granny smith"

            [[fruits]]
            name = "banana"

            [[fruits.varieties]]
            name = "plantain"
            """)
        #expect(lookup(root, "fruits")?.line == 1)
        #expect(lookup(root, "fruits", "0")?.line == 1)
        #expect(lookup(root, "fruits", "0", "physical", "color") == TOMLNode(.string("red"), line: 5))
        #expect(lookup(root, "fruits", "0", "varieties")?.line == 7)
        #expect(lookup(root, "fruits", "0", "varieties", "1")?.line == 10)
        #expect(lookup(root, "fruits", "0", "varieties", "1", "name")?.value == .string("granny smith"))
        #expect(lookup(root, "fruits", "1")?.line == 13)
        #expect(lookup(root, "fruits", "1", "varieties", "0", "name") == TOMLNode(.string("plantain"), line: 17))
        #expect(lookup(root, "fruits", "2") == nil)
    }

    @Test func headersAllowWhitespaceAndQuotedParts() throws {
        let root = try TOML.parse("""
            [ a . "b c" . 'd' ]   # comment
            k = 1
            [[ list ]]
            """)
        #expect(lookup(root, "a", "b c", "d", "k") == TOMLNode(.integer(1), line: 2))
        #expect(lookup(root, "list", "0")?.line == 3)
    }

    @Test func arraysMayBeMultiLineWithCommentsAndATrailingComma() throws {
        let root = try TOML.parse("""
            a = [
              1,   # one
              "two",
              [3, 4.5],
              { x = 1 },
            ]
            b = [ ]
            c = [[], [1]]
            """)
        let expected = TOMLNode(
            .array([
                TOMLNode(.integer(1), line: 2),
                TOMLNode(.string("two"), line: 3),
                TOMLNode(.array([TOMLNode(.integer(3), line: 4), TOMLNode(.float(4.5), line: 4)]), line: 4),
                TOMLNode(.table(TOMLTable(entries: [("x", TOMLNode(.integer(1), line: 5))], line: 5)), line: 5),
            ]), line: 1)
        #expect(lookup(root, "a") == expected)
        #expect(lookup(root, "b") == TOMLNode(.array([]), line: 7))
        #expect(lookup(root, "c", "1", "0")?.value == .integer(1))
    }

    @Test func inlineTablesTakeDottedKeysAndMultiLineArrayValues() throws {
        let root = try TOML.parse("""
            point = { x = 1, y.z = 2, y.w = "s", list = [
              1, 2] }
            empty = {}
            """)
        #expect(lookup(root, "point", "y", "z")?.value == .integer(2))
        #expect(lookup(root, "point", "y", "w")?.value == .string("s"))
        #expect(lookup(root, "point", "list", "1") == TOMLNode(.integer(2), line: 2))
        #expect(lookup(root, "empty") == TOMLNode(.table(TOMLTable(line: 3)), line: 3))
    }

    @Test func nestingUpToTheLimitParses() throws {
        let nested = String(repeating: "[", count: 100) + "1" + String(repeating: "]", count: 100)
        let root = try TOML.parse("a = \(nested)")
        var node = try #require(lookup(root, "a"))
        for _ in 0..<100 {
            guard case .array(let elements) = node.value, elements.count == 1 else {
                Issue.record("expected a one-element array, got \(node.value.kindDescription)")
                return
            }
            node = elements[0]
        }
        #expect(node.value == .integer(1))
    }

    @Test func keysKeepDocumentOrder() throws {
        let root = try TOML.parse("z = 1\na = 2\nm.b = 3\nm.a = 4\n")
        #expect(root.keys == ["z", "a", "m"])
        guard case .table(let m)? = lookup(root, "m")?.value else {
            Issue.record("m is not a table")
            return
        }
        #expect(m.keys == ["b", "a"])
    }
}
