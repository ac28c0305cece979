import AuthzJSON
import JOSE

/// JWK set parsing, which hands attacker-chosen numbers to OpenSSL when an endpoint is
/// compromised or spoofed: no crash on any document, and every entry of a set that parses is
/// either a key or a skip line, never both and never lost.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJWKSet(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard let set = try? JWKSet.parse(input) else { return 0 }
    let document = try? JSONParser.parse(input, options: .init(rejectDuplicateKeys: true, maxDepth: 16))
    guard let entries = document?["keys"]?.arrayValue else { fatalError("a set parsed without a keys array") }
    guard set.keys.count + set.skipped.count == entries.count else {
        fatalError("\(entries.count) entries became \(set.keys.count) keys and \(set.skipped.count) skips")
    }
    for key in set.keys {
        if let alg = key.alg, !key.canServe(alg) { fatalError("a key cannot serve its own alg") }
        if let kid = key.kid, !set.contains(kid: kid) { fatalError("kid lookup misses a key") }
    }
    return 0
}
