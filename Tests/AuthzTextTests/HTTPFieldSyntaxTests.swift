import AuthzText
import Testing

@Suite struct HTTPFieldSyntaxTests {
    @Test func tokensAreLettersDigitsAndTheRFC9110Punctuation() {
        for s in ["x-auth-subject", "X_Client", "GET", "M-SEARCH", "a!#$%&'*+-.^_`|~z", "0"] {
            #expect(HTTPField.isToken(s), "\(s)")
        }
    }

    @Test func emptySeparatorsControlsAndNonASCIIAreNotTokens() {
        for s in ["", "bad header", "x:y", "a\"b", "(x)", "a,b", "a/b", "x\r\ny", "x\u{0}", "\u{7F}", "caf\u{E9}", "a\tb"] {
            #expect(!HTTPField.isToken(s), "\(s.debugDescription)")
        }
    }

    @Test func trimmingOWSDropsOnlySpacesAndTabsAtTheEnds() {
        #expect(HTTPField.trimmingOWS(" \t10.0.0.1 \t"[...]) == "10.0.0.1")
        #expect(HTTPField.trimmingOWS("a b"[...]) == "a b")
        #expect(HTTPField.trimmingOWS("   "[...]) == "")
        #expect(HTTPField.trimmingOWS(""[...]) == "")
        #expect(HTTPField.trimmingOWS("\nx\r"[...]) == "\nx\r")
        let list = "a, b ,\tc"
        #expect(list.split(separator: ",").map(HTTPField.trimmingOWS) == ["a", "b", "c"])
    }
}
