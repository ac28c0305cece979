import AuthzJSON
import NIOCore

/// JSON text written straight into a `ByteBuffer`: the codec builds every line in the buffer that
/// goes to the socket, with no intermediate string or array.
extension ByteBuffer {
    /// A JSON string literal with the escapes RFC 8259 requires.
    @usableFromInline
    mutating func writeJSONString(_ s: String) {
        writeInteger(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            var runStart = 0
            for i in 0..<utf8.count {
                let c = utf8[i]
                if c >= 0x20 && c != 0x22 && c != 0x5C { continue }
                if runStart < i { writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[runStart..<i])) }
                runStart = i + 1
                switch c {
                case 0x22: writeStaticString("\\\"")
                case 0x5C: writeStaticString("\\\\")
                case 0x0A: writeStaticString("\\n")
                case 0x0D: writeStaticString("\\r")
                case 0x09: writeStaticString("\\t")
                default:
                    writeStaticString("\\u00")
                    writeInteger(Self.hexDigit(c >> 4))
                    writeInteger(Self.hexDigit(c & 0xF))
                }
            }
            if runStart < utf8.count {
                writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[runStart..<utf8.count]))
            }
        }
        writeInteger(UInt8(ascii: "\""))
    }

    private static func hexDigit(_ v: UInt8) -> UInt8 {
        v < 10 ? 0x30 + v : UInt8(ascii: "a") + v - 10
    }

    /// A decimal integer, built on the stack (no `String` in between).
    @usableFromInline
    mutating func writeJSONInt(_ value: Int) {
        if value >= 0 && value < 10 {
            writeInteger(UInt8(0x30 + value))
            return
        }
        // 20 digits and a sign hold any Int.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { raw in
            let base = raw.baseAddress!
            var v = value.magnitude
            var at = raw.count
            repeat {
                at -= 1
                base.storeBytes(of: UInt8(truncatingIfNeeded: 0x30 &+ v % 10), toByteOffset: at, as: UInt8.self)
                v /= 10
            } while v > 0
            if value < 0 {
                at -= 1
                base.storeBytes(of: UInt8(ascii: "-"), toByteOffset: at, as: UInt8.self)
            }
            writeBytes(UnsafeRawBufferPointer(start: base + at, count: raw.count - at))
        }
    }

    @usableFromInline
    mutating func writeJSONBool(_ b: Bool) {
        if b { writeStaticString("true") } else { writeStaticString("false") }
    }

    /// Any value; numbers keep the text they were read with, so an id is echoed as sent.
    @usableFromInline
    mutating func writeJSONValue(_ value: JSONValue) {
        switch value {
        case .null: writeStaticString("null")
        case .bool(let b): writeJSONBool(b)
        case .number(let n): writeString(n.text)
        case .string(let s): writeJSONString(s)
        case .array(let a):
            writeInteger(UInt8(ascii: "["))
            for (i, v) in a.enumerated() {
                if i > 0 { writeInteger(UInt8(ascii: ",")) }
                writeJSONValue(v)
            }
            writeInteger(UInt8(ascii: "]"))
        case .object(let o):
            writeInteger(UInt8(ascii: "{"))
            for (i, m) in o.members.enumerated() {
                if i > 0 { writeInteger(UInt8(ascii: ",")) }
                writeJSONString(m.key)
                writeInteger(UInt8(ascii: ":"))
                writeJSONValue(m.value)
            }
            writeInteger(UInt8(ascii: "}"))
        }
    }
}
