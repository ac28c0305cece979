import AuthzJSON
import Testing

@Suite struct JSONWriterTests {
    private func written(_ s: String) -> String {
        var w = JSONWriter()
        w.writeString(s)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    @Test func escapesQuotesBackslashesAndControls() {
        #expect(written("a\"b\\c") == #""a\"b\\c""#)
        #expect(written("\n\r\t") == #""\n\r\t""#)
        #expect(written("\u{0}\u{1}\u{1F}") == #""\u0000\u0001\u001f""#)
        #expect(written("\u{8}\u{C}") == #""\u0008\u000c""#)
    }

    @Test func leavesOtherCharactersAlone() {
        #expect(written("plain / é € 😀 \u{7F}") == "\"plain / é € 😀 \u{7F}\"")
    }

    @Test func everyStringRoundTrips() throws {
        var samples = ["", "x", "\"\"", "\\\\\"", "line\nbreak\r\n", "😀é", "\u{2028}\u{2029}", "</script>"]
        samples.append(String((0..<128).map { Character(UnicodeScalar(UInt8($0))) }))
        for s in samples {
            let back = try JSONParser.parse(written(s))
            #expect(back == .string(s))
        }
    }

    @Test func nestedValuesRoundTrip() throws {
        let value: JSONValue = [
            "id": .number(JSONNumber(text: "12345678901234567890", double: 1.2345678901234567e19)),
            "list": [1, "two\n", nil, false, ["k": "v"]],
            "empty": [:],
            "none": [],
            "quo\"te": 2.5,
        ]
        let text = value.jsonString
        #expect(try JSONParser.parse(text, options: .init(rejectDuplicateKeys: true)) == value)
        #expect(text.hasPrefix(#"{"id":12345678901234567890,"list":[1,"two\n",null,false,{"k":"v"}]"#))
    }

    @Test func integersAndBooleansAreWrittenPlainly() {
        var w = JSONWriter()
        w.writeInt(0); w.writeRaw(","); w.writeInt(7); w.writeRaw(","); w.writeInt(200); w.writeRaw(",")
        w.writeInt(-42); w.writeRaw(","); w.writeBool(true); w.writeRaw(","); w.writeBool(false)
        #expect(String(decoding: w.bytes, as: UTF8.self) == "0,7,200,-42,true,false")
    }

    @Test func doubleLiteralsWriteValidJSON() throws {
        let values: [JSONValue] = [1.0, 2.5, -0.125, 1e20, 1.5e-9]
        for v in values {
            #expect(try JSONParser.parse(v.jsonString).numberValue?.double == v.numberValue?.double)
        }
        #expect(JSONValue(floatLiteral: 3.0).jsonString == "3")
    }

    @Test func nonFiniteDoublesStillWriteValidJSON() throws {
        for d in [Double.nan, .infinity, -.infinity] {
            let value: JSONValue = ["rate": .number(JSONNumber(d))]
            let text = value.jsonString
            #expect(try JSONParser.parse(text)["rate"] == .null, "\(text)")
        }
    }
}
