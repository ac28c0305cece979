import AuthzCrypto
import AuthzJSON
import Testing

@Suite struct HMACKeyTests {
    @Test(arguments: [
        ("hmac_sha256_test.json", HashFunction.sha256),
        ("hmac_sha384_test.json", HashFunction.sha384),
        ("hmac_sha512_test.json", HashFunction.sha512),
    ])
    func wycheproofVectorsAllMatch(file: String, hash: HashFunction) throws {
        let doc = try #require(TestVectors.wycheproof(file))
        var checked = 0
        for (group, cases) in doc.wycheproofGroups {
            let tagBytes = Int(group["tagSize"]?.numberValue?.double ?? 0) / 8
            for c in cases {
                let key = HMACKey(algorithm: hash, key: c[hexField: "key"])
                let msg = c[hexField: "msg"]
                let tag = c[hexField: "tag"]
                // Truncated-tag groups compare a prefix; full-size groups go through isValid.
                let outcome = tagBytes == hash.byteCount
                    ? key.isValid(mac: tag, for: msg)
                    : Array(key.mac(msg).prefix(tagBytes)) == tag
                #expect(c.accepts(outcome), "tcId \(c.id) (\(c.comment)) expected \(c.result)")
                checked += 1
            }
        }
        #expect(checked > 100)
    }

    @Test func rfc4231Case2ComputesKnownMAC() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let key = HMACKey(algorithm: .sha256, key: Array("Jefe".utf8))
        #expect(key.mac(Array("what do ya want for nothing?".utf8))
            == hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"))
    }

    @Test func truncatedOrExtendedMACIsInvalid() {
        let key = HMACKey(algorithm: .sha256, key: Array(repeating: 7, count: 32))
        let data = Array("payload".utf8)
        let mac = key.mac(data)
        #expect(key.isValid(mac: mac, for: data))
        #expect(!key.isValid(mac: Array(mac.dropLast()), for: data))
        #expect(!key.isValid(mac: mac + [0], for: data))
        #expect(!key.isValid(mac: [], for: data))
        var flipped = mac
        flipped[31] ^= 1
        #expect(!key.isValid(mac: flipped, for: data))
    }

    @Test func emptyKeyAndEmptyMessageWork() {
        // RFC 2104 allows an empty key; HMAC-SHA256("", "") is a well-known constant.
        let key = HMACKey(algorithm: .sha256, key: [])
        #expect(key.mac([UInt8]()) == hex("b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"))
    }

    @Test func sharedKeyGivesSameAnswersFromManyTasks() async {
        let key = HMACKey(algorithm: .sha512, key: Array(repeating: 1, count: 64))
        let data = Array("concurrent".utf8)
        let expected = key.mac(data)
        let allValid = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<8 {
                group.addTask {
                    var ok = true
                    for j in 0..<500 {
                        ok = ok && key.isValid(mac: expected, for: data)
                        ok = ok && !key.isValid(mac: expected, for: data + [UInt8(truncatingIfNeeded: i + j)])
                    }
                    return ok
                }
            }
            return await group.allSatisfy { $0 }
        }
        #expect(allValid)
    }
}
