import AuthzCrypto
import AuthzJSON

/// Makes compact JWS tokens, for `token mint` and for tests. The daemon itself never signs.
public enum JWSSigner {
    /// A token over `claims` MACed with `key`, whose hash decides the HS* algorithm.
    /// The header is `{"alg":…,"typ":"JWT"}` plus `kid` when given.
    public static func sign(claims: JSONObject, kid: String? = nil, hmac key: HMACKey) -> String {
        let alg: JWSAlgorithm
        switch key.algorithm {
        case .sha256: alg = .hs256
        case .sha384: alg = .hs384
        case .sha512: alg = .hs512
        }
        let input = signingInput(alg: alg, kid: kid, claims: claims)
        return String(decoding: input, as: UTF8.self) + "." + Base64URL.encode(key.mac(input))
    }

    /// A token over `claims` signed by `key` with `algorithm`, which must suit the key.
    public static func sign(claims: JSONObject, kid: String? = nil, algorithm: JWSAlgorithm,
                            key: PrivateKey) throws(CryptoError) -> String {
        guard let scheme = algorithm.signatureAlgorithm else {
            throw CryptoError(.unsupported, "\(algorithm.rawValue) is not a signature algorithm")
        }
        let input = signingInput(alg: algorithm, kid: kid, claims: claims)
        let signature = try key.sign(scheme, message: input)
        return String(decoding: input, as: UTF8.self) + "." + Base64URL.encode(signature)
    }

    private static func signingInput(alg: JWSAlgorithm, kid: String?, claims: JSONObject) -> [UInt8] {
        var header = JSONObject([("alg", .string(alg.rawValue)), ("typ", "JWT")])
        if let kid { header["kid"] = .string(kid) }
        var writer = JSONWriter()
        writer.write(.object(header))
        var out = Array(Base64URL.encode(writer.bytes).utf8)
        writer = JSONWriter()
        writer.write(.object(claims))
        out.append(UInt8(ascii: "."))
        out += Base64URL.encode(writer.bytes).utf8
        return out
    }
}
