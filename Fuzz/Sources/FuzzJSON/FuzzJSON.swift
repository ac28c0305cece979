import AuthzJSON

/// JSON parser: no crash on any input, in either mode, and a value that parses survives a
/// round trip: written out by `JSONWriter`, it parses back to the same value, and writing that
/// again gives the same bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    // Parsed straight from libFuzzer's exactly-sized copy, so AddressSanitizer sees any read
    // past the end.
    let input = UnsafeRawBufferPointer(start: data, count: size)
    for options in [JSONParser.Options(), JSONParser.Options(rejectDuplicateKeys: true, maxDepth: 16)] {
        guard let value = try? JSONParser.parse(input, options: options) else { continue }
        var writer = JSONWriter()
        writer.write(value)
        let reparsed: JSONValue
        do {
            reparsed = try JSONParser.parse(writer.bytes, options: options)
        } catch {
            fatalError("written JSON does not parse: \(error): \(String(decoding: writer.bytes, as: UTF8.self))")
        }
        guard reparsed == value else {
            fatalError("round trip changed the value: \(String(decoding: writer.bytes, as: UTF8.self))")
        }
        var again = JSONWriter()
        again.write(reparsed)
        guard again.bytes == writer.bytes else { fatalError("writing is not stable") }
        // The wire answer is one line: nothing written may contain a raw newline.
        guard !writer.bytes.contains(0x0A) else { fatalError("written JSON contains a raw newline") }
    }
    return 0
}
