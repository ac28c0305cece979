import AntMediaImport
import Foundation
import Testing

/// `JavaProperties` against the real `java.util.Properties.load`: hand-picked corner cases and
/// generated files full of separators, escapes, continuations and line ends must give the same
/// keys and values (as UTF-16 code units), and the same refusals.
@Suite struct JavaPropertiesDifferentialTests {
    static let java = "/usr/bin/java"
    static let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("support/PropertiesDump.java").path

    static let cornerCases: [String] = [
        "a=1\nb : 2\nc 3\nd\t=\t4\ne:=5\nf = = 6\ng\n",
        "# c\n! c\n\n  k = v  \n",
        "k = a\\\n   b\\\n\tc\n",
        "k = a\\\n\nn = b\n",
        "# comment \\\nk = v\n",
        "k = a\\\n#b\n",
        "a=1\r\nb=2\rc=3\r\nd=x\\\r\n  y\r\ne=5",
        "k = abc\\",
        "my\\ key\\=x\\:y = a\\tb\\nc\\rd\\fe\\\\f\\qg\\=h\\u00e9\\u0041\n",
        "k = \\uD83D\\uDE00 and \\uD800 alone\n",
        "k=\\u12G4\n",
        "k=\\u12",
        "k=first\nk=second\n",
        "\\\n k=v\n",
        "k\\\n  ey=v\n",
        "  \\  lead = x\n",
        "=value with empty key\n",
        ":\n",
        "k=\\\\\\\nnext\n",
        "\u{0C}k\u{0C}=\u{0C}v\u{0C}\n",
        "k=v\\ \n",
        "k=v\r\n \\\n",
        "k=v\n\\",
        "\\\n\u{0C}! not a key\n",
        "k=v\n\\\n# comment at the end",
        "settings.jwtSecretKey=zautXStXM9iW3aD3FuyPH0TdK4GHPmHq\nsettings.remoteAllowedCIDR=127.0.0.1,\\\n 10.0.0.0/8\n",
        // KELVIN SIGN: canonically equivalent to "K" for Swift strings, a different key to Java.
        "jwtSecretKey=real\njwtSecret\\u212Aey=other\n",
    ]

    /// Files drawn from an alphabet of the characters the format treats specially.
    static func generated(count: Int) -> [[UInt8]] {
        var rng = SplitMix64(seed: 0xA17_3D1A)
        let pieces: [[UInt8]] = [
            Array("k".utf8), Array("v".utf8), Array("ab".utf8), Array("=".utf8), Array(":".utf8), Array(" ".utf8),
            Array("\t".utf8), [0x0C], Array("\\".utf8), Array("\\\\".utf8), Array("\n".utf8), Array("\r".utf8),
            Array("\r\n".utf8), Array("#".utf8), Array("!".utf8), Array("\\u".utf8), Array("00e9".utf8),
            Array("D83D".utf8), Array("\\uDE00".utf8), Array("\\n".utf8), Array("\\t".utf8), Array("\\z".utf8),
            [0xE9], [0xFF], [0x00], Array("x=y\n".utf8),
        ]
        return (0..<count).map { _ in
            var file: [UInt8] = []
            for _ in 0..<Int(rng.next() % 40) { file += pieces[Int(rng.next() % UInt64(pieces.count))] }
            return file
        }
    }

    @Test func matchesJavaUtilPropertiesOnCornerCasesAndGeneratedFiles() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.java) else {
            Issue.record("\(Self.java) is missing: install a JDK (default-jdk-headless; `make test` does)")
            return
        }
        let dir = try ScratchDirectory()
        let files = Self.cornerCases.map { Array($0.unicodeScalars.map { UInt8($0.value) }) } + Self.generated(count: 400)
        var paths: [String] = []
        for (i, bytes) in files.enumerated() { paths.append(try dir.write("p\(i).properties", bytes: bytes)) }

        let javaView = try Self.runJava(paths)
        #expect(javaView.count == files.count)
        var compared = 0, refused = 0
        for (i, bytes) in files.enumerated() {
            let ours: [String: String]?
            do {
                ours = Dictionary(uniqueKeysWithValues: try JavaProperties.parse(bytes).entries.map {
                    (Self.hex(Array($0.key.utf16)), Self.hex($0.utf16))
                })
            } catch {
                ours = nil
            }
            #expect(ours == javaView[i], "file \(i): \(String(decoding: bytes, as: UTF8.self).debugDescription)")
            if ours == nil { refused += 1 } else { compared += 1 }
        }
        // The corpus exercises both outcomes.
        #expect(refused > 0)
        #expect(compared > 100)
    }

    /// Java's reading of each file: keys to values (hex), or nil when Java refuses the file.
    static func runJava(_ paths: [String]) throws -> [[String: String]?] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: java)
        p.arguments = ["-Xshare:auto", "-Xmx64m", source] + paths
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw ImportTestFailure("java \(source) failed: \(String(decoding: errors, as: UTF8.self))")
        }
        var result: [[String: String]?] = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            if parts[0] == "FILE" {
                result.append(parts[2] == "ERROR" ? nil : [:])
            } else if parts.count == 2, !result.isEmpty, result[result.count - 1] != nil {
                // Keys are Swift strings here (the importer only looks up ASCII names), so a lone
                // surrogate in a key reads as U+FFFD on both sides; values are compared exactly.
                result[result.count - 1]![lossy(parts[0])] = parts[1]
            }
        }
        return result
    }

    /// Hex UTF-16 through a Swift string and back.
    static func lossy(_ hexed: String) -> String {
        var units: [UInt16] = []
        var rest = Substring(hexed.dropFirst())
        while rest.count >= 4 {
            units.append(UInt16(rest.prefix(4), radix: 16) ?? 0)
            rest = rest.dropFirst(4)
        }
        return hex(Array(String(decoding: units, as: UTF16.self).utf16))
    }

    static func hex(_ units: [UInt16]) -> String {
        "x" + units.map { u in
            let h = String(u, radix: 16)
            return String(repeating: "0", count: 4 - h.count) + h
        }.joined()
    }
}

/// A small deterministic generator, so a failure can be reproduced.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
