import JOSE
import Testing

@Suite struct Base64URLTests {
    @Test func roundTripsEveryLengthModuloThree() {
        for n in 0..<40 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 250) }
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("="))
            #expect(Base64URL.decode(text) == bytes, "length \(n)")
        }
    }

    @Test func usesTheURLAlphabet() {
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.decode("-_8") == [0xFB, 0xFF])
    }

    @Test func paddingIsRefused() {
        #expect(Base64URL.decode("Zm9vYg") == Array("foob".utf8))
        #expect(Base64URL.decode("Zm9vYg==") == nil)
        #expect(Base64URL.decode("Zm9vYmE=") == nil)
    }

    @Test func standardAlphabetAndOtherCharactersAreRefused() {
        #expect(Base64URL.decode("+/8") == nil)
        #expect(Base64URL.decode("Zm9v YmFy") == nil)
        #expect(Base64URL.decode("Zm9v\nYmFy") == nil)
        #expect(Base64URL.decode("Zm9vÿ") == nil)
    }

    @Test func nonCanonicalTrailingBitsAreRefused() {
        // "Zg" is canonical for "f"; "Zh" decodes to the same byte with a non-zero unused bit.
        #expect(Base64URL.decode("Zg") == Array("f".utf8))
        #expect(Base64URL.decode("Zh") == nil)
        #expect(Base64URL.decode("Zm8") == Array("fo".utf8))
        #expect(Base64URL.decode("Zm9") == nil)
    }

    @Test func impossibleLengthIsRefused() {
        #expect(Base64URL.decode("Z") == nil)
        #expect(Base64URL.decode("Zm9vY") == nil)
        #expect(Base64URL.decode("") == [])
    }
}
