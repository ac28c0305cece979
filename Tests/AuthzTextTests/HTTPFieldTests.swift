import Testing

@testable import AuthzText

@Suite struct HTTPFieldTests {
    @Test func lowercasingChangesOnlyASCIICapitals() {
        #expect(HTTPField.lowercased("X-Authz-App") == "x-authz-app")
        #expect(HTTPField.lowercased("already-lower") == "already-lower")
        #expect(HTTPField.lowercased("AZaz@[`{09") == "azaz@[`{09")
        // Bytes above ASCII pass through: only A-Z fold.
        #expect(HTTPField.lowercased("X-Ä") == "x-Ä")
        #expect(HTTPField.lowercased("") == "")
    }

    @Test func caseInsensitiveComparisonNeedsTheSameLengthAndLetters() {
        #expect(HTTPField.equalsIgnoringCase("X-Real-IP", "x-real-ip"))
        #expect(HTTPField.equalsIgnoringCase("x-real-ip", "x-real-ip"))
        #expect(!HTTPField.equalsIgnoringCase("x-real-ipx", "x-real-ip"))
        #expect(!HTTPField.equalsIgnoringCase("x-real-i", "x-real-ip"))
        // `@` and `[` sit beside `A` and `Z`: they must not fold onto `` ` `` or `{`.
        #expect(!HTTPField.equalsIgnoringCase("@", "`"))
        #expect(!HTTPField.equalsIgnoringCase("[", "{"))
    }

    @Test func tokensAreTcharsOnly() {
        #expect(HTTPField.isToken("X-Auth-Subject"))
        #expect(HTTPField.isToken("!#$%&'*+-.^_`|~09azAZ"))
        #expect(!HTTPField.isToken(""))
        #expect(!HTTPField.isToken("bad name"))
        #expect(!HTTPField.isToken("bad:name"))
        #expect(!HTTPField.isToken("bad\r\nname"))
        #expect(!HTTPField.isToken("naïve"))
    }

    @Test func fieldValuesRefuseControlCharactersButTab() {
        #expect(HTTPField.isFieldValue("alice\tbob, caf\u{E9}"))
        #expect(HTTPField.isFieldValue(""))
        #expect(!HTTPField.isFieldValue("a\r\nX-Injected: 1"))
        #expect(!HTTPField.isFieldValue("a\u{0}b"))
        #expect(!HTTPField.isFieldValue("a\u{7F}b"))
    }
}
