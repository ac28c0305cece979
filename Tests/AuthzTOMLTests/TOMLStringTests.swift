import AuthzTOML
import Testing

/// The four string forms and every escape.
@Suite struct TOMLStringTests {
    private func string(_ document: String) throws -> String? {
        guard case .string(let s)? = lookup(try TOML.parse(document), "s")?.value else { return nil }
        return s
    }

    @Test func basicStringsDecodeEverySimpleEscape() throws {
        #expect(try string(#"s = "a\bb\tc\nd\fe\rf\"g\\h""#) == "a\u{08}b\tc\nd\u{0C}e\rf\"g\\h")
    }

    @Test func unicodeEscapesDecodeFourAndEightDigitForms() throws {
        #expect(try string(#"s = "\u00E9\u20AC\U0001F600\u0000""#) == "é€😀\u{0}")
        #expect(try string(#"s = "\U0010FFFF""#) == "\u{10FFFF}")
        #expect(try string(#"s = "caf\u00e9""#) == "café")
    }

    @Test func rawUnicodeIsKept() throws {
        #expect(try string("s = \"ünïcødé ✓ 😀\"") == "ünïcødé ✓ 😀")
        #expect(try string("s = 'tab\there'") == "tab\there")
    }

    @Test func literalStringsKeepBackslashes() throws {
        #expect(try string(#"s = 'C:\Users\nodejs\templates'"#) == #"C:\Users\nodejs\templates"#)
        #expect(try string(#"s = '<\i\c*\s*>'"#) == #"<\i\c*\s*>"#)
    }

    @Test func multiLineBasicStringsTrimTheFirstNewlineAndLineEndingBackslashes() throws {
        #expect(try string("s = \"\"\"\nRoses are red\nViolets are blue\"\"\"") == "Roses are red\nViolets are blue")
        let folded = "s = \"\"\"\\\n    The quick brown \\\n\n\n    fox jumps over \\   \n      the lazy dog.\\\n    \"\"\""
        #expect(try string(folded) == "The quick brown fox jumps over the lazy dog.")
        #expect(try string("s = \"\"\"\r\none\r\ntwo\"\"\"") == "one\ntwo")
    }

    @Test func multiLineStringsMayHoldAndEndWithUpToTwoQuotes() throws {
        #expect(try string(#"s = """Here are two quotation marks: "". Simple enough.""""#)
            == #"Here are two quotation marks: "". Simple enough."#)
        #expect(try string(##"s = """"This," she said, "is just a pointless statement."""""##)
            == #""This," she said, "is just a pointless statement.""#)
        #expect(try string(##"s = """a""""""##) == ##"a"""##)
        #expect(try string("s = '''That's still pointless'', she said.'''") == "That's still pointless'', she said.")
        #expect(try string("s = '''\nThe first newline is\ntrimmed in raw strings.\n   \\n stays\n'''")
            == "The first newline is\ntrimmed in raw strings.\n   \\n stays\n")
    }

    @Test func multiLineStringValueIsOnTheLineItStartsAndNextKeysFollow() throws {
        let root = try TOML.parse("a = 1\ns = \"\"\"\none\ntwo\n\"\"\"\nb = 2\n")
        #expect(lookup(root, "s") == TOMLNode(.string("one\ntwo\n"), line: 2))
        #expect(lookup(root, "b") == TOMLNode(.integer(2), line: 6))
    }

    @Test func emptyStringsOfEveryForm() throws {
        #expect(try string(#"s = """#) == "")
        #expect(try string("s = ''") == "")
        #expect(try string(##"s = """""""##) == "")
        #expect(try string("s = ''''''") == "")
    }
}
