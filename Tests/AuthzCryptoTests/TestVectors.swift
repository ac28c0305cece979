@_exported import AuthzTestSupport
import AuthzJSON
import Foundation
import Testing

/// Bytes from a hex string (the encoding Wycheproof uses).
func hex(_ s: String) -> [UInt8] {
    let digits = Array(s.utf8)
    precondition(digits.count % 2 == 0, "odd-length hex")
    func nibble(_ c: UInt8) -> UInt8 {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: preconditionFailure("bad hex digit")
        }
    }
    return stride(from: 0, to: digits.count, by: 2).map { nibble(digits[$0]) << 4 | nibble(digits[$0 + 1]) }
}

/// A Wycheproof test case, reduced to what a verification test needs.
struct WycheproofCase {
    let id: Int
    let comment: String
    let result: String
    let fields: JSONObject

    subscript(hexField name: String) -> [UInt8] { hex(fields[name]?.stringValue ?? "") }

    /// Whether `outcome` agrees with the expected result ("acceptable" allows either).
    func accepts(_ outcome: Bool) -> Bool {
        switch result {
        case "valid": outcome
        case "invalid": !outcome
        default: true
        }
    }
}

extension JSONObject {
    /// The test groups of a Wycheproof file, each with its cases.
    var wycheproofGroups: [(group: JSONObject, cases: [WycheproofCase])] {
        (self["testGroups"]?.arrayValue ?? []).compactMap { g in
            guard let group = g.objectValue else { return nil }
            let cases = (group["tests"]?.arrayValue ?? []).compactMap { t -> WycheproofCase? in
                guard let o = t.objectValue else { return nil }
                return WycheproofCase(id: Int(o["tcId"]?.numberValue?.double ?? -1),
                                      comment: o["comment"]?.stringValue ?? "",
                                      result: o["result"]?.stringValue ?? "",
                                      fields: o)
            }
            return (group, cases)
        }
    }
}
