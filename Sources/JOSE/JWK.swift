import AuthzCrypto
import AuthzJSON

/// Reading one JSON Web Key (RFC 7517 §4, RFC 7518 §6, RFC 8037 §2) as a verification key.
public enum JWK {
    /// Why a JWK was not turned into a key; goes into logs, so it never holds key material.
    public struct SkipReason: Error, Sendable, Equatable {
        public let text: String
        init(_ text: String) { self.text = text }
    }

    /// The verification key `value` describes, or why it cannot be used.
    public static func verificationKey(from value: JSONValue) -> Result<VerificationKey, SkipReason> {
        Result { () throws(SkipReason) -> VerificationKey in try parse(value) }
    }

    private static func parse(_ value: JSONValue) throws(SkipReason) -> VerificationKey {
        guard let jwk = value.objectValue else { throw SkipReason("not a JSON object") }
        guard let kty = jwk["kty"]?.stringValue else { throw SkipReason("kty missing or not a string") }

        var kid: String? = nil
        if let k = jwk["kid"] {
            guard let s = k.stringValue else { throw SkipReason("kid is not a string") }
            kid = s
        }
        if let use = jwk["use"] {
            guard use.stringValue == "sig" else { throw SkipReason("use is not \"sig\"") }
        }
        if let ops = jwk["key_ops"] {
            guard let list = ops.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                throw SkipReason("key_ops is not an array of strings")
            }
            guard list.contains(.string("verify")) else { throw SkipReason("key_ops lacks \"verify\"") }
        }
        var alg: JWSAlgorithm? = nil
        if let a = jwk["alg"] {
            guard let name = a.stringValue else { throw SkipReason("alg is not a string") }
            guard let known = JWSAlgorithm(rawValue: name), !known.isHMAC else {
                throw SkipReason("alg \(name.prefix(32)) is not a supported signature algorithm")
            }
            alg = known
        }

        let key: PublicKey
        switch kty {
        case "RSA":
            let n = try member(jwk, "n")
            let e = try member(jwk, "e")
            key = try build { () throws(CryptoError) in try PublicKey.rsa(modulus: n, exponent: e) }
            guard key.bits >= JWKSet.minRSABits else {
                throw SkipReason("RSA key of \(key.bits) bits is below \(JWKSet.minRSABits)")
            }
            guard !ROCAFingerprint.matches(modulus: n) else {
                throw SkipReason("RSA modulus has the ROCA fingerprint (CVE-2017-15361)")
            }
        case "EC":
            guard let crvName = jwk["crv"]?.stringValue else { throw SkipReason("crv missing or not a string") }
            guard let curve = ECCurve(rawValue: crvName) else {
                throw SkipReason("EC curve \(crvName.prefix(32)) is not supported")
            }
            let x = try member(jwk, "x")
            let y = try member(jwk, "y")
            key = try build { () throws(CryptoError) in try PublicKey.ec(curve: curve, x: x, y: y) }
        case "OKP":
            guard let crvName = jwk["crv"]?.stringValue else { throw SkipReason("crv missing or not a string") }
            guard crvName == "Ed25519" else { throw SkipReason("OKP curve \(crvName.prefix(32)) is not supported") }
            let x = try member(jwk, "x")
            key = try build { () throws(CryptoError) in try PublicKey.ed25519(publicKey: x) }
        default:
            throw SkipReason("kty \(kty.prefix(32)) is not supported")
        }

        if let alg, !(alg.signatureAlgorithm?.isCompatible(with: key.kind) ?? false) {
            throw SkipReason("alg \(alg.rawValue) does not match a \(key.kind) key")
        }
        return VerificationKey(kid: kid, alg: alg, key: key)
    }

    private static func member(_ jwk: JSONObject, _ name: String) throws(SkipReason) -> [UInt8] {
        guard let text = jwk[name]?.stringValue else { throw SkipReason("\(name) missing or not a string") }
        guard let bytes = Base64URL.decode(text), !bytes.isEmpty else {
            throw SkipReason("\(name) is not canonical base64url")
        }
        return bytes
    }

    private static func build(_ make: () throws(CryptoError) -> PublicKey) throws(SkipReason) -> PublicKey {
        do {
            return try make()
        } catch {
            throw SkipReason(error.message)
        }
    }
}
