import AuthzJSON
import AuthzText
import JOSE

/// What `authzd token inspect` shows of a compact JWS, read without checking anything: its
/// header and claims. A token that cannot be read gets one sentence saying what is wrong.
struct TokenReport {
    let header: JSONObject
    let claims: JSONObject
    /// False for an unsecured token (`header.claims.`).
    let hasSignature: Bool

    /// Why a token cannot be read, as a sentence for people.
    struct Problem: Error, Equatable {
        let message: String
    }

    static func read(_ text: String) -> Result<TokenReport, Problem> {
        var t = Substring(text)
        while let f = t.first, f == " " || f == "\t" || f == "\n" || f == "\r" { t = t.dropFirst() }
        while let l = t.last, l == " " || l == "\t" || l == "\n" || l == "\r" { t = t.dropLast() }
        if t.lowercased().hasPrefix("bearer ") { t = t.dropFirst(7).drop { $0 == " " } }
        guard !t.isEmpty else { return .failure(Problem(message: "the token is empty")) }
        let parts = t.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            if parts.count == 5 {
                return .failure(Problem(message: "the token has five dot-separated parts: it is an encrypted JWT (JWE), which cannot be inspected without its key"))
            }
            return .failure(Problem(message: "a JWT has three parts separated by dots (header.claims.signature); this token has \(parts.count)"))
        }
        let header: JSONObject
        switch object(parts[0], name: "header", number: 1) {
        case .success(let o): header = o
        case .failure(let p): return .failure(p)
        }
        let claims: JSONObject
        switch object(parts[1], name: "claims", number: 2) {
        case .success(let o): claims = o
        case .failure(let p): return .failure(p)
        }
        if !parts[2].isEmpty, Base64URL.decode(parts[2]) == nil {
            return .failure(Problem(message: "the signature (part 3) is not base64url: \(whyNotBase64URL(parts[2]))"))
        }
        return .success(TokenReport(header: header, claims: claims, hasSignature: !parts[2].isEmpty))
    }

    /// One part decoded and parsed as a JSON object.
    static func object(_ part: Substring, name: String, number: Int) -> Result<JSONObject, Problem> {
        let what = "the \(name) (part \(number))"
        guard !part.isEmpty else { return .failure(Problem(message: "\(what) is empty")) }
        guard let bytes = Base64URL.decode(part) else {
            return .failure(Problem(message: "\(what) is not base64url: \(whyNotBase64URL(part))"))
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            return .failure(Problem(message: "\(what) is base64url but not JSON (\(error.message) at byte \(error.offset) of the decoded text)"))
        }
        guard case .object(let o) = value else {
            return .failure(Problem(message: "\(what) is JSON but not an object"))
        }
        return .success(o)
    }

    /// Why `part` does not decode, for a message: a character outside the alphabet, padding, or
    /// a length or last character no encoder produces.
    static func whyNotBase64URL(_ part: Substring) -> String {
        for (i, c) in part.enumerated() {
            if c == "=" { return "it has '=' padding, which a JWT leaves out" }
            let ok = c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "_")
            if !ok {
                let shown = c == "+" || c == "/" ? "'\(c)' (standard base64, not base64url)" : "'\(LogText.escaped(String(c)))'"
                return "character \(i + 1) is \(shown)"
            }
        }
        if part.utf8.count % 4 == 1 { return "its length (\(part.utf8.count)) is one more than a multiple of 4, which no encoding has" }
        return "its last character carries bits no encoder sets (the part was cut or altered)"
    }
}
