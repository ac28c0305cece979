import AuthzJSON
import JOSE

/// Compact JWS parsing, claim checks and signature verification: no crash on any token, and a
/// token that parses is canonical (its parts are exactly the base64url of what was decoded, the
/// signing input is everything before the second dot).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCompactJWS(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let token = String(decoding: bytes, as: UTF8.self)
    guard let jws = try? CompactJWS.parse(token) else { return 0 }

    let parts = token.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 3 else { fatalError("parsed a token of \(parts.count) parts") }
    guard Base64URL.encode(jws.payload) == parts[1], Base64URL.encode(jws.signature) == parts[2] else {
        fatalError("a parsed part is not the canonical encoding of its bytes")
    }
    guard jws.signingInput == Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count)) else {
        fatalError("signing input is not the token up to its second dot")
    }
    guard jws.header["alg"]?.stringValue == jws.algorithm.rawValue else { fatalError("alg differs from the header") }

    // Hostile claims (huge or fractional exp, odd aud shapes) through every claim check.
    for policy in policies { _ = try? policy.validate(jws.claims, now: 1_800_000_000) }
    // Hostile signatures (odd lengths, r or s out of range) through every verifier that serves
    // the algorithm. These keys are public and fixed; nothing is expected to verify.
    for key in keys.keys(for: jws.algorithm, kid: nil) where JWSVerifier.verify(jws, with: key) {
        fatalError("a fuzzed signature verified")
    }
    return 0
}

private let policies = [
    ClaimPolicy(),
    ClaimPolicy(issuers: ["https://idp.example.com"], audiences: ["api", "web"], leeway: 30, requireExp: true,
                requiredClaims: ["sub", "iat", "nbf"]),
]

/// One public key of each kind: RSA 2048, P-256, P-384, P-521, Ed25519.
private let keys: JWKSet = {
    do {
        return try JWKSet.parse(Array(#"{"keys":[{"kty":"RSA","kid":"rsa","n":"7-snJHvvsAB5RI1fbXc1yLpCID5EPJ10hOxGe0zuxOdQlWuVJOgsIRusQV1-7Uz3W0bzsvjTUq6xU9ts6Emis5bn157kF7bXru0YMahGtOb7W6y6ExKxho_G6JlWy4hGBno-Vi1dxPSBVJPwJNE2AQraIa1GS4UrLt1S0CBl13Qi7Y_zUFfgEg5UF9Cejw8XEDk2a0ZMr0VS-dGdDQy2j_UVpGOltKlCIa9QJ4jiSEoPjrugPDKQuTjQCwurC4xBxX-e1Bt80_1bnCpS_Ir4GeNUCpqkPA8uh8NQLmjEJKDuIIUdfmbHhGLMEe5erz0_CXyqKAitx5a72ELR-PwtsQ","e":"AQAB"},{"kty":"EC","crv":"P-256","kid":"P-256","x":"1ecjdvMBiHQPgPC4fipxmvlqmIItIcU7mFLX7C-7vZQ","y":"DsKykP6987h1nubuGZywNXtcVq_HGltepnmjSjKvcfU"},{"kty":"EC","crv":"P-384","kid":"P-384","x":"E2ndEAn2RUL5rUvpZ0XjYOHK41ZgLbBJzjS7InsNXWQDWyxmbtaO5z1cKKe81g-d","y":"8ZX0CdW4yKrLeqPtdGOUKfaE_jVjRbP6LvedI4fCL36UUrNYtQ-StkHN719Vh6aU"},{"kty":"EC","crv":"P-521","kid":"P-521","x":"AJ1_wJ4UaMUXKhVlplvtOA3MdwReokXaxwwArqnqOEkWFf1pQJYfi6CokZavMqOLfH1Ct3qhqigqKUcQl42Q3qF0","y":"AZOd9E9ma09MmZh3ue9RarZBxzp-EKNYwvpw-42us4qFyLFsu86S6Hvb2eyNw-SR8qhECaOO5V1tweaZtaIyGE1I"},{"kty":"OKP","crv":"Ed25519","kid":"ed","x":"nWAbejj59TgdXbgpSirlEDMG6dDSfF9wIz1OQQnK18Q"}]}"#.utf8))
    } catch {
        fatalError("fixed key set does not parse: \(error)")
    }
}()
