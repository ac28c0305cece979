import AuthzJSON

/// A JWS in compact serialization (RFC 7515 §7.1), parsed and checked for shape but NOT verified.
///
/// Parsing is strict: exactly three parts, canonical base64url, header and payload that are JSON
/// objects without duplicate member names (RFC 7515 §5.2, RFC 8725 §3.2) and with shallow nesting,
/// a known `alg`, and no `crit` (we implement no extensions, so RFC 7515 §4.1.11 obliges us to
/// refuse any). Verify the signature with `JWSVerifier` before trusting anything here.
public struct CompactJWS: Sendable {
    /// The protected header.
    public let header: JSONObject
    /// The payload, which must be a JSON object of claims.
    public let claims: JSONObject
    /// The decoded payload bytes (the JSON text of `claims`).
    public let payload: [UInt8]
    /// The header's `alg`.
    public let algorithm: JWSAlgorithm
    /// The header's `kid`, if present.
    public let kid: String?
    /// The header's `typ`, if present.
    public let typ: String?
    /// The ASCII bytes `BASE64URL(header) '.' BASE64URL(payload)` the signature covers.
    public let signingInput: [UInt8]
    /// The decoded signature.
    public let signature: [UInt8]

    /// Default limit on a token's length in bytes.
    public static let defaultMaxLength = 8192
    /// Nesting allowed in header and payload: claims are flat in practice, and a bound keeps a
    /// hostile token from costing stack or time.
    public static let maxJSONDepth = 16

    /// The header's `alg` (alias of `algorithm`).
    public var alg: JWSAlgorithm { algorithm }

    /// Parses a compact JWS. Throws `malformedToken` for any shape error and `algNotAllowed` for an
    /// `alg` outside the supported set (including `none` in any spelling).
    public static func parse(_ token: some StringProtocol, maxLength: Int = defaultMaxLength) throws(JOSEError) -> CompactJWS {
        try parse(token, maxLength: maxLength, payloadIsClaims: true)
    }

    /// `payloadIsClaims: false` accepts any payload and leaves `claims` empty. Not public: a JWT's
    /// payload is always a claims object; this exists so the JOSE cookbook's plain-text payloads
    /// can exercise the same parsing and verification path.
    static func parse(_ token: some StringProtocol, maxLength: Int, payloadIsClaims: Bool) throws(JOSEError) -> CompactJWS {
        // Checked before copying, so an oversized token costs nothing.
        guard token.utf8.count <= maxLength else {
            throw JOSEError(.malformedToken, "token is longer than \(maxLength) bytes")
        }
        var text = String(token)
        // withUTF8 only rethrows untyped errors, so the outcome travels as a Result.
        let result = text.withUTF8 { bytes in
            Result { () throws(JOSEError) -> CompactJWS in try parse(bytes: UnsafeRawBufferPointer(bytes), maxLength: maxLength, payloadIsClaims: payloadIsClaims) }
        }
        return try result.get()
    }

    private static func parse(bytes: UnsafeRawBufferPointer, maxLength: Int, payloadIsClaims: Bool) throws(JOSEError) -> CompactJWS {
        guard bytes.count <= maxLength else {
            throw JOSEError(.malformedToken, "token is longer than \(maxLength) bytes")
        }
        guard !bytes.isEmpty else { throw JOSEError(.malformedToken, "token is empty") }
        var dots: [Int] = []
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: ".") {
            dots.append(i)
            if dots.count > 2 { break }
        }
        guard dots.count == 2 else {
            throw JOSEError(.malformedToken, "a compact JWS has exactly three dot-separated parts")
        }
        let headerPart = UnsafeRawBufferPointer(rebasing: bytes[0..<dots[0]])
        let payloadPart = UnsafeRawBufferPointer(rebasing: bytes[(dots[0] + 1)..<dots[1]])
        let signaturePart = UnsafeRawBufferPointer(rebasing: bytes[(dots[1] + 1)...])

        guard let headerBytes = Base64URL.decode(bytes: headerPart), !headerBytes.isEmpty else {
            throw JOSEError(.malformedToken, "header is not canonical base64url")
        }
        guard let payloadBytes = Base64URL.decode(bytes: payloadPart) else {
            throw JOSEError(.malformedToken, "payload is not canonical base64url")
        }
        guard let signature = Base64URL.decode(bytes: signaturePart), !signature.isEmpty else {
            throw JOSEError(.malformedToken, "signature is missing or not canonical base64url")
        }

        let header = try object(headerBytes, what: "header")
        guard let algValue = header["alg"] else { throw JOSEError(.malformedToken, "header has no alg") }
        guard let algName = algValue.stringValue else { throw JOSEError(.malformedToken, "header alg is not a string") }
        guard let algorithm = JWSAlgorithm(rawValue: algName) else {
            throw JOSEError(.algNotAllowed, "alg is not a supported algorithm")
        }
        if header["crit"] != nil {
            throw JOSEError(.malformedToken, "header crit names extensions this verifier does not implement")
        }
        // RFC 7797 unencoded payloads change what is signed; only the default (true) is accepted.
        if let b64 = header["b64"], b64 != .bool(true) {
            throw JOSEError(.malformedToken, "unencoded payloads (b64) are not supported")
        }
        let kid = try optionalString(header, "kid")
        let typ = try optionalString(header, "typ")

        let claims = payloadIsClaims ? try object(payloadBytes, what: "payload") : JSONObject()
        return CompactJWS(header: header, claims: claims, payload: payloadBytes, algorithm: algorithm, kid: kid, typ: typ,
                          signingInput: Array(bytes[0..<dots[1]]), signature: signature)
    }

    private static func object(_ bytes: [UInt8], what: String) throws(JOSEError) -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes, options: .init(rejectDuplicateKeys: true, maxDepth: maxJSONDepth))
        } catch {
            // The parser's message names a position and a reason, never the content.
            throw JOSEError(.malformedToken, "\(what) is not valid JSON: \(error.message)")
        }
        guard let object = value.objectValue else { throw JOSEError(.malformedToken, "\(what) is not a JSON object") }
        return object
    }

    private static func optionalString(_ header: JSONObject, _ name: String) throws(JOSEError) -> String? {
        guard let value = header[name] else { return nil }
        guard let s = value.stringValue else { throw JOSEError(.malformedToken, "header \(name) is not a string") }
        return s
    }
}
