import AntMediaImport
import Testing

/// `JavaProperties` reads a file the way `java.util.Properties.load(InputStream)` does.
@Suite struct JavaPropertiesTests {
    private func parse(_ text: String) throws -> JavaProperties {
        try JavaProperties.parse(latin1: text)
    }

    @Test func theThreeSeparatorsAndTheBlanksAroundThem() throws {
        let p = try parse("a=1\nb : 2\nc 3\nd\t=\t4\ne:=5\nf = = 6\ng\n")
        #expect(p["a"]?.value == "1")
        #expect(p["b"]?.value == "2")
        #expect(p["c"]?.value == "3")
        #expect(p["d"]?.value == "4")
        // Only one separator is eaten; the second belongs to the value.
        #expect(p["e"]?.value == "=5")
        #expect(p["f"]?.value == "= 6")
        // A key alone has the empty value.
        #expect(p["g"]?.value == "")
    }

    @Test func commentsAndBlankLinesAreSkippedAndLinesAreCounted() throws {
        let p = try parse("# comment\n! also a comment\n\n   \n  key1=v1\n\t# indented comment\nkey2=v2\n")
        #expect(p.entries.count == 2)
        #expect(p["key1"]?.line == 5)
        #expect(p["key2"]?.line == 7)
        #expect(p["#"] == nil)
    }

    @Test func leadingBlanksOfAValueGoAndTrailingOnesStay() throws {
        let p = try parse("k =   value with spaces   \n")
        #expect(p["k"]?.value == "value with spaces   ")
    }

    @Test func aContinuationJoinsLinesDroppingTheNextLinesLeadingBlanks() throws {
        let p = try parse("list = 10.0.0.0/8, \\\n        192.168.0.0/16,\\\n\t127.0.0.1\nafter=x\n")
        #expect(p["list"]?.value == "10.0.0.0/8, 192.168.0.0/16,127.0.0.1")
        #expect(p["list"]?.line == 1)
        #expect(p["after"]?.line == 4)
    }

    @Test func anEvenRunOfBackslashesDoesNotContinue() throws {
        let p = try parse("a = x\\\\\nb = y\n")
        #expect(p["a"]?.value == "x\\")
        #expect(p["b"]?.value == "y")
    }

    @Test func aCommentLineNeverContinuesButAContinuedLineMayStartWithHash() throws {
        let p = try parse("# comment \\\nk = a\\\n#b\n")
        #expect(p["k"]?.value == "a#b")
        #expect(p["k"]?.line == 2)
    }

    @Test func anEmptyLineAfterAContinuationEndsTheEntry() throws {
        let p = try parse("k = a\\\n\nnext = b\n")
        #expect(p["k"]?.value == "a")
        #expect(p["next"]?.value == "b")
        #expect(p["next"]?.line == 3)
    }

    @Test func crAndCrlfEndLinesAndCountOnce() throws {
        let p = try parse("a=1\r\nb=2\rc=3\r\nd=x\\\r\n  y\r\ne=5")
        #expect(p["a"]?.line == 1)
        #expect(p["b"]?.line == 2)
        #expect(p["c"]?.line == 3)
        #expect(p["d"]?.value == "xy")
        #expect(p["d"]?.line == 4)
        #expect(p["e"]?.value == "5")
        #expect(p["e"]?.line == 6)
    }

    @Test func aBackslashAtTheEndOfTheFileIsDropped() throws {
        let p = try parse("k = abc\\")
        #expect(p["k"]?.value == "abc")
    }

    @Test func escapesInKeysAndValues() throws {
        let p = try parse("my\\ key\\=x\\:y = a\\tb\\nc\\rd\\fe\\\\f\\qg\\=h\\u00e9\\u0041\n")
        #expect(p["my key=x:y"]?.value == "a\tb\nc\rd\u{0C}e\\fqg=h\u{E9}A")
    }

    @Test func unicodeEscapesCombineIntoSurrogatePairs() throws {
        let p = try parse("k = \\uD83D\\uDE00\n")
        #expect(p["k"]?.value == "\u{1F600}")
        #expect(p["k"]?.hasLoneSurrogate == false)
        let lone = try parse("k = a\\uD800b\n")
        #expect(lone["k"]?.hasLoneSurrogate == true)
    }

    @Test func aMalformedUnicodeEscapeIsAnErrorAtItsLine() throws {
        #expect(throws: JavaPropertiesError(line: 3, message: "malformed \\uXXXX escape (Java refuses the whole file)")) {
            try JavaProperties.parse(latin1: "a=1\n\nb=\\u12G4\n")
        }
        #expect(throws: JavaPropertiesError.self) { try JavaProperties.parse(latin1: "b=\\u12") }
    }

    @Test func bytesAreLatin1NotUTF8() throws {
        // "é" written as UTF-8 (C3 A9) is two Latin-1 characters to Java, and so here.
        let p = try JavaProperties.parse([0x6B, 0x3D, 0xC3, 0xA9, 0x0A])
        #expect(p["k"]?.value == "\u{C3}\u{A9}")
        #expect(Array(p["k"]!.value.utf8) == [0xC3, 0x83, 0xC2, 0xA9])
    }

    @Test func theLastOfARepeatedKeyWins() throws {
        let p = try parse("k=first\nk=second\n")
        #expect(p["k"]?.value == "second")
        #expect(p["k"]?.line == 2)
    }

    @Test func aContinuedKeyStartsWhereItsFirstLineIs() throws {
        let p = try parse("\n\nlong\\\n  key = v\n")
        #expect(p["longkey"]?.value == "v")
        #expect(p["longkey"]?.line == 3)
    }

    @Test func aLogicalLineLeftEmptyByAContinuationMayStartAComment() throws {
        let p = try parse("\\\n  ! not a key\nk=v\n")
        #expect(p.entries.count == 1)
        #expect(p["k"]?.line == 3)
    }

    @Test func aLoneBackslashLineAtTheEndOfTheFileIsAnEmptyEntryAsInJava() throws {
        let p = try parse("k=v\n \\\n")
        #expect(p[""]?.value == "")
        #expect(p[""]?.line == 2)
        #expect(try parse("k=v\n\\")[""]?.value == "")
    }

    // Found by FuzzJavaProperties: keys were Swift strings compared by canonical equivalence,
    // so a KELVIN SIGN (U+212A) key stood in for "jwtSecretKey", which Java never confuses.
    @Test func keysDifferingOnlyByCanonicalEquivalenceStayApart() throws {
        let p = try parse("jwtSecretKey=real\njwtSecret\\u212Aey=other\n")
        #expect(p.entries.count == 2)
        #expect(p["jwtSecretKey"]?.value == "real")
        #expect(p["jwtSecretKey"]?.line == 1)
        #expect(p["jwtSecret\u{212A}ey"]?.value == "other")
        let only = try parse("jwtSecret\\u212Aey=other\n")
        #expect(only["jwtSecretKey"] == nil)
    }
}
