import AuthzTOML
import Testing

/// Every class of error names the exact line and column, so `check-config` can point at it.
@Suite struct TOMLErrorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var document: String
        var line: Int
        var column: Int
        var message: String
        var testDescription: String { message }

        init(_ document: String, _ line: Int, _ column: Int, _ message: String) {
            self.document = document
            self.line = line
            self.column = column
            self.message = message
        }
    }

    static let redefinitions: [Case] = [
        Case("a = 1\nb = 2\na = 3", 3, 1, "duplicate key 'a' (first defined at line 1)"),
        Case("[t]\nx = 1\n\n[u]\n[t]", 5, 2, "table '[t]' is already defined (line 1)"),
        Case("[t.u]\n[t]\n[t]", 3, 2, "table '[t]' is already defined (line 2)"),
        Case("a.b = 1\na.b = 2", 2, 3, "duplicate key 'a.b' (first defined at line 1)"),
        Case("a.b = 1\n\"a\".'b' = 2", 2, 5, "duplicate key 'a.b' (first defined at line 1)"),
        Case("a = 1\na.b = 2", 2, 1, "cannot add 'a.b': 'a' is already an integer (line 1)"),
        Case("[fruit]\napple.color = 'red'\n[fruit.apple]", 3, 8,
             "table '[fruit.apple]' was already defined with dotted keys (line 2)"),
        Case("a.b = 1\n[a]", 2, 2, "table '[a]' was already defined with dotted keys (line 1)"),
        Case("[a.b.c]\nz = 9\n[a]\nb.c.t = 1", 4, 1,
             "cannot add 'b.c.t' with a dotted key: table 'b' was defined by a table header (line 1)"),
        Case("[x]\n[[x]]", 2, 3, "cannot define array of tables '[[x]]': 'x' is already a table (line 1)"),
        Case("[[x]]\n[x]", 2, 2, "cannot define table '[x]': 'x' is already an array of tables (line 1)"),
        Case("a = [1]\n[[a]]", 2, 3, "cannot append to 'a' with '[[a]]': it is a static array (line 1)"),
        Case("a = {b = 1}\n[a.c]", 2, 2, "cannot define table '[a.c]': 'a' is already an inline table (line 1)"),
        Case("a = {b = 1}\na.c = 2", 2, 1, "cannot add 'a.c': 'a' is already an inline table (line 1)"),
        Case("a = {b = 1}\n[a]", 2, 2, "cannot define table '[a]': 'a' is already an inline table (line 1)"),
        Case("a = { b = 1, b = 2 }", 1, 14, "duplicate key 'b' (first defined at line 1)"),
        Case("a = { b = 1, b.c = 2 }", 1, 14, "cannot add 'b.c': 'b' is already an integer (line 1)"),
        Case("[[t]]\nx.y = 1\n[t.x]", 3, 4, "table '[t.x]' was already defined with dotted keys (line 2)"),
        Case("\"a b\" = 1\n'a b' = 2", 2, 1, "duplicate key '\"a b\"' (first defined at line 1)"),
    ]

    static let strings: [Case] = [
        Case(#"s = "a\qb""#, 1, 7, #"invalid escape sequence '\q'"#),
        Case(#"s = "\x41""#, 1, 6, #"invalid escape sequence '\x'"#),
        Case(#"s = "\uD800""#, 1, 6, "U+D800 is not a Unicode scalar value"),
        Case(#"s = "\U00110000""#, 1, 6, "U+110000 is not a Unicode scalar value"),
        Case(#"s = "\u12G4""#, 1, 6, #"'\u' needs exactly 4 hexadecimal digits"#),
        Case(#"s = "\U1234""#, 1, 6, #"'\U' needs exactly 8 hexadecimal digits"#),
        Case("s = \"\"\"\nline\\ q\n\"\"\"", 2, 5, "invalid escape sequence"),
        Case("a = 1\ns = \"abc\nb = 2", 2, 5, "unterminated string (missing closing '\"')"),
        Case("s = 'abc", 1, 5, "unterminated string (missing closing \"'\")"),
        Case("x = 1\ns = \"\"\"abc\n\nmore", 2, 5, "unterminated multi-line string (missing closing '\"\"\"')"),
        Case("s = '''abc\n", 1, 5, "unterminated multi-line string (missing closing \"'''\")"),
        Case("s = \"a\u{01}b\"", 1, 7, "control character U+0001 must be escaped in a string"),
        Case("s = \"\"\"a\u{7F}\"\"\"", 1, 9, "control character U+007F must be escaped in a string"),
        Case("s = \"\"\"a\"\"\"\"\"\"", 1, 14, "too many quotes"),
        Case("s = \"é\\q\"", 1, 7, "invalid escape sequence '\\q'"),
        Case("s = \"abc\\\n\"", 1, 9, "a backslash at the end of a line is only allowed in multi-line strings"),
    ]

    static let syntax: [Case] = [
        Case("[t]\nkey value", 2, 5, "expected '=' after key 'key', found 'v'"),
        Case("key", 1, 4, "expected '=' after key 'key', found end of input"),
        Case("a.\"b c\"\n", 1, 8, "expected '=' after key 'a.\"b c\"', found end of line"),
        Case("a =\n", 1, 4, "expected a value, found end of line"),
        Case("a = # c", 1, 5, "expected a value, found '#'"),
        Case("a = 1 2", 1, 7, "unexpected '2' after value; expected a newline or a comment"),
        Case("[a] b = 1", 1, 5, "unexpected 'b' after table header"),
        Case("a = { b = 1,\n c = 2 }", 1, 13, "an inline table must be on one line"),
        Case("a = { b = 1 # c\n}", 1, 13, "an inline table must be on one line"),
        Case("a = { b = 1, }", 1, 14, "a trailing comma is not allowed in an inline table"),
        Case("a = { b = 1 c = 2 }", 1, 13, "expected ',' or '}' in inline table, found 'c'"),
        Case("a = [1, 2\n", 1, 5, "unterminated array (missing ']')"),
        Case("a = [1 2]", 1, 8, "expected ',' or ']' in array, found '2'"),
        Case("a = [,]", 1, 6, "expected a value, found ','"),
        Case("a = 1\rb = 2", 1, 6, "a carriage return must be followed by a newline"),
        Case("[a\nb = 1", 1, 3, "expected ']' to close the table header, found end of line"),
        Case("[[a]\n", 1, 4, "expected ']]' to close the array-of-tables header"),
        Case("[]", 1, 2, "expected a key, found ']'"),
        Case("[a.]", 1, 4, "expected a key, found ']'"),
        Case("= 1", 1, 1, "expected a key, found '='"),
        Case("\"\"\"k\"\"\" = 1", 1, 1, "a key cannot be a multi-line string"),
        Case("a = 1 # ok\u{01}", 1, 11, "control character U+0001 is not allowed in a comment"),
        Case("a = @", 1, 5, "expected a value, found '@'"),
        Case("ключ = 1", 1, 1, "expected a key, found 'к'"),
        Case("a = " + String(repeating: "[", count: 101), 1, 105, "nested more than 100 levels deep"),
        Case("a = " + String(repeating: "{b=", count: 100) + "{", 1, 305, "nested more than 100 levels deep"),
    ]

    static let positions: [Case] = [
        Case("a = 1\r\nb = 1\r\na = 2\r\n", 3, 1, "duplicate key 'a'"),
        Case("s = \"\"\"\n\n\"\"\"\na = 1\na = 2", 5, 1, "duplicate key 'a'"),
        Case("a = [\n  1,\n  2 3\n]", 3, 5, "expected ',' or ']' in array, found '3'"),
        Case("# é ü\n  x = \"😀\" y", 2, 11, "unexpected 'y' after value"),
    ]

    @Test(arguments: redefinitions)
    func redefinitionsAreRejectedWhereTheSecondDefinitionIs(_ c: Case) {
        check(c)
    }

    @Test(arguments: strings)
    func badStringsAreRejectedAtTheOffendingCharacter(_ c: Case) {
        check(c)
    }

    @Test(arguments: syntax)
    func syntaxErrorsSayWhatWasExpected(_ c: Case) {
        check(c)
    }

    @Test(arguments: positions)
    func linesAndColumnsSurviveCRLFMultiLineValuesAndUnicode(_ c: Case) {
        check(c)
    }

    @Test func errorDescriptionIsLineColonColumnColonMessage() {
        let error = TOMLParseError(line: 3, column: 7, message: "duplicate key 'a'")
        #expect(error.description == "3:7: duplicate key 'a'")
    }

    private func check(_ c: Case, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let error = parseError(c.document, sourceLocation: sourceLocation) else { return }
        #expect(error.line == c.line, "\(error)", sourceLocation: sourceLocation)
        #expect(error.column == c.column, "\(error)", sourceLocation: sourceLocation)
        #expect(error.message.contains(c.message), "\(error)", sourceLocation: sourceLocation)
    }
}
