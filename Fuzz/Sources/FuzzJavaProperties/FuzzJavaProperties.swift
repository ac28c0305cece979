@testable import AntMediaImport

/// The `.properties` reader of `authzd import antmedia`, which reads whatever an Ant Media
/// install holds. Beyond "no crash": work and output are bounded by the input (no entry holds
/// more code units than the file has bytes); every line number (entry or error) is a line of
/// the file; the table holds the last entry of each logical line's key, compared code unit by
/// code unit as Java compares keys; and writing the entries out the way `Properties.store`
/// escapes them and reading that back gives the same keys and values.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJavaProperties(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // Lines as the reader counts them: a line ends at \n, \r\n or a lone \r.
    var lineCount = 1
    for (i, c) in bytes.enumerated() where c == 0x0A || (c == 0x0D && (i + 1 == bytes.count || bytes[i + 1] != 0x0A)) {
        lineCount += 1
    }
    let properties: JavaProperties
    do {
        properties = try JavaProperties.parse(bytes)
    } catch {
        guard (1...lineCount).contains(error.line) else { fatalError("error on line \(error.line) of \(lineCount)") }
        guard !error.message.isEmpty else { fatalError("an error without a message") }
        return 0
    }
    // The same text handed over as a Latin-1 string reads the same.
    let latin1 = String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    guard let again = try? JavaProperties.parse(latin1: latin1), again.entries == properties.entries else {
        fatalError("parse(latin1:) disagrees with parse(bytes)")
    }

    var units = 0
    for entry in properties.entries {
        guard properties[entry.key] == entry else { fatalError("an entry is not found under its own key") }
        guard (1...lineCount).contains(entry.line) else { fatalError("key on line \(entry.line) of \(lineCount)") }
        units += entry.key.utf16.count + entry.utf16.count
    }
    guard units <= bytes.count else { fatalError("\(units) code units out of \(bytes.count) bytes") }

    // Java's Hashtable tells keys apart by their code units; the table must too, keeping the
    // last logical line of each key.
    var expected: [[UInt16]: JavaProperties.Entry] = [:]
    for logical in JavaProperties.logicalLines(bytes) {
        guard let entry = try? JavaProperties.parseEntry(logical.chars, line: logical.line) else {
            fatalError("a logical line fails on its own but not in the file")
        }
        expected[Array(entry.key.utf16)] = entry
    }
    guard expected.count == properties.entries.count else {
        fatalError("\(expected.count) distinct keys became \(properties.entries.count) entries")
    }
    for (key, entry) in expected {
        guard let got = properties[String(decoding: key, as: UTF16.self)],
              Array(got.key.utf16) == key, got.utf16 == entry.utf16, got.line == entry.line else {
            fatalError("key \(String(decoding: key, as: UTF16.self).debugDescription) is not its last entry")
        }
    }

    // Written out and read back: same keys, same values, one line each.
    let sorted = expected.keys.sorted { $0.lexicographicallyPrecedes($1) }
    var text: [UInt8] = []
    for key in sorted {
        text += PropertiesWriter.escape(key, isKey: true)
        text.append(UInt8(ascii: "="))
        text += PropertiesWriter.escape(expected[key]!.utf16, isKey: false)
        text.append(0x0A)
    }
    let reread: JavaProperties
    do {
        reread = try JavaProperties.parse(text)
    } catch {
        fatalError("the written form is refused on line \(error.line): \(error.message)")
    }
    guard reread.entries.count == expected.count else { fatalError("the written form has \(reread.entries.count) entries") }
    for (n, key) in sorted.enumerated() {
        guard let entry = reread[String(decoding: key, as: UTF16.self)], entry.utf16 == expected[key]!.utf16,
              entry.line == n + 1 else {
            fatalError("key \(String(decoding: key, as: UTF16.self).debugDescription) does not read back")
        }
    }
    return 0
}

/// `Properties.store`'s escaping, on UTF-16 code units.
enum PropertiesWriter {
    static func escape(_ units: [UInt16], isKey: Bool) -> [UInt8] {
        var out: [UInt8] = []
        for (i, u) in units.enumerated() {
            switch u {
            case 0x20:
                // A value's inner blanks are its own; a leading one would be read as padding.
                if isKey || i == 0 { out.append(0x5C) }
                out.append(0x20)
            case 0x09: out += Array("\\t".utf8)
            case 0x0A: out += Array("\\n".utf8)
            case 0x0D: out += Array("\\r".utf8)
            case 0x0C: out += Array("\\f".utf8)
            case 0x3D, 0x3A, 0x23, 0x21, 0x5C:
                out.append(0x5C)
                out.append(UInt8(u))
            case 0x21...0x7E:
                out.append(UInt8(u))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += Array("\\u".utf8)
                for shift in [12, 8, 4, 0] { out.append(hex[Int(u >> UInt16(shift)) & 0xF]) }
            }
        }
        return out
    }
}
