/// Entry point of the TOML reader used for authzd's configuration files.
public enum TOML {
    /// Parses a TOML 1.0 document; the root table has line 1.
    ///
    /// Every node of the result carries the 1-based line where its value starts, so the
    /// configuration loader can report "FILE:LINE: message" for values that parse but do not
    /// validate. Syntax errors and TOML's redefinition rules throw a `TOMLParseError` with the
    /// line and column (counted in Unicode scalars, 1-based) of the offending text.
    public static func parse(_ text: String) throws(TOMLParseError) -> TOMLTable {
        var parser = TOMLParser(text)
        return try parser.parseDocument()
    }
}
