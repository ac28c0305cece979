import AuthzJSON
import NIOCore
import Testing

@testable import AuthzWire

@Suite struct RawJSONWriterTests {
    /// The eight-bytes-at-a-time test agrees with the byte rule for every byte value in every
    /// position, whatever the neighbouring bytes.
    @Test func theWordTestFlagsExactlyTheBytesThatNeedEscaping() {
        for fill in [UInt8(ascii: "a"), 0x20, 0x7F, 0x80, 0xFF, 0x21, 0x5D, 0x23] {
            for position in 0..<8 {
                for value in 0...255 {
                    var bytes = [UInt8](repeating: fill, count: 8)
                    bytes[position] = UInt8(value)
                    let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                    let byteRule = bytes.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }
                    #expect(RawJSONWriter.needsEscape(word) == byteRule, "fill \(fill) byte \(value) at \(position)")
                }
            }
        }
    }

    /// Every string up to a few words long, with a character to escape at any position, reads back
    /// as itself.
    @Test func stringsOfEveryLengthWithAnEscapeAnywhereRoundTrip() throws {
        for length in 0...40 {
            for position in -1..<length {
                var scalars = Array(repeating: Character("é"), count: length)
                if position >= 0 { scalars[position] = ["\"", "\\", "\n", "\u{1}"][position % 4] }
                let text = String(scalars)
                var b = ByteBuffer()
                let bound = RawJSONWriter.bound(text)
                b.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { raw in
                    var w = RawJSONWriter(raw.baseAddress!)
                    w.string(text)
                    #expect(w.count <= bound)
                    return w.count
                }
                #expect(try JSONParser.parse(Array(b.readableBytesView)) == .string(text))
            }
        }
    }
}
