/// `application/x-www-form-urlencoded` encoding (the WHATWG URL standard's serializer): ASCII
/// letters, digits and `*-._` stay, a space becomes `+`, every other byte becomes `%XX`.
enum FormEncoding {
    private static let hex = Array("0123456789ABCDEF".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 2)
        for b in bytes {
            switch b {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2A, 0x2D, 0x2E, 0x5F:
                out.append(b)
            case 0x20:
                out.append(0x2B)
            default:
                out.append(0x25)
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `name=value&…`, each part encoded.
    static func body(_ fields: [(String, String)]) -> [UInt8] {
        Array(fields.map { encode(Array($0.0.utf8)) + "=" + encode(Array($0.1.utf8)) }.joined(separator: "&").utf8)
    }
}
