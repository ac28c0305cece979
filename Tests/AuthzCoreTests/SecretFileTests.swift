import AuthzCore
import Testing

/// `readSecretFile`, the one place a secret file's trailing line ending is dropped (`secret_file`,
/// `client_secret_file`, `authzd token mint --secret-file`).
@Suite struct SecretFileTests {
    @Test func exactlyOneTrailingLineEndingIsDropped() throws {
        let dir = try ConfigDir()
        let cases: [([UInt8], [UInt8])] = [
            (Array("s3cret\n".utf8), Array("s3cret".utf8)),
            (Array("s3cret\r\n".utf8), Array("s3cret".utf8)),
            (Array("s3cret\r".utf8), Array("s3cret".utf8)),
            (Array("s3cret".utf8), Array("s3cret".utf8)),
            (Array("s3cret\n\n".utf8), Array("s3cret\n".utf8)),
            (Array(" s3cret \n".utf8), Array(" s3cret ".utf8)),
        ]
        for (i, (content, expected)) in cases.enumerated() {
            let path = try dir.write("secret\(i)", bytes: content)
            guard case .success(let bytes) = readSecretFile(path) else {
                Issue.record("case \(i) did not read")
                continue
            }
            #expect(bytes == expected, "case \(i)")
        }
    }

    @Test func aMissingFileIsAnErrorNamingIt() throws {
        let dir = try ConfigDir()
        guard case .failure(let e) = readSecretFile(dir.path + "/absent") else {
            Issue.record("a missing file read")
            return
        }
        #expect(e.message.contains(dir.path + "/absent"))
    }
}
