import ArgumentParser
import AuthzCore
import AuthzCrypto
import AuthzJSON
import JOSE

#if canImport(Glibc)
import Glibc
#endif

struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mint and inspect tokens.", subcommands: [Mint.self, Inspect.self])
}

struct Mint: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print an HMAC-signed JWT.")

    @Option(help: "The shared secret.") var secret: String?
    @Option(name: .customLong("secret-file"), help: "A file holding the secret.") var secretFile: String?
    @Option(help: "HS256, HS384 or HS512.") var alg: String = "HS256"
    @Option(help: "Key id for the header.") var kid: String?
    @Option(name: .customLong("claim"), parsing: .singleValue,
            help: "NAME=VALUE; JSON numbers and booleans are typed.") var claims: [String] = []
    @Option(name: .customLong("expires-in"), help: "Set exp this many seconds from now.") var expiresIn: Int?

    func validate() throws {
        guard (secret == nil) != (secretFile == nil) else {
            throw ValidationError("give exactly one of --secret or --secret-file")
        }
    }

    func run() throws {
        guard let algorithm = JWSAlgorithm(rawValue: alg), let hash = algorithm.hmacHash else {
            throw ValidationError("--alg must be HS256, HS384 or HS512")
        }
        var key: [UInt8]
        if let secret {
            key = Array(secret.utf8)
        } else {
            switch readFileBytes(secretFile!) {
            case .success(let b): key = b
            case .failure(let e): throw ValidationError(e.message)
            }
            if key.last == 0x0A { key.removeLast() }
            if key.last == 0x0D { key.removeLast() }
        }
        var payload = JSONObject()
        for c in claims {
            guard let eq = c.firstIndex(of: "="), eq != c.startIndex else {
                throw ValidationError("--claim takes NAME=VALUE, got \(c)")
            }
            payload[String(c[..<eq])] = Self.typedValue(String(c[c.index(after: eq)...]))
        }
        if let expiresIn {
            let (exp, overflow) = Int(time(nil)).addingReportingOverflow(expiresIn)
            guard !overflow, abs(expiresIn) <= 100 * 365 * 86400 else {
                throw ValidationError("--expires-in must be within 100 years")
            }
            payload["exp"] = .number(JSONNumber(exp))
        }
        print(JWSSigner.sign(claims: payload, kid: kid, hmac: HMACKey(algorithm: hash, key: key)))
    }

    /// JSON numbers and booleans become typed claims; anything else is a string.
    static func typedValue(_ text: String) -> JSONValue {
        if text == "true" { return .bool(true) }
        if text == "false" { return .bool(false) }
        if let v = try? JSONParser.parse(text), case .number = v { return v }
        return .string(text)
    }
}

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a token's header and claims, unverified.")

    @Argument(help: "The token (a leading 'Bearer ' is ignored).") var token: String

    func run() throws {
        var t = Substring(token)
        if t.lowercased().hasPrefix("bearer ") { t = t.dropFirst(7) }
        let parts = t.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw ValidationError("a compact JWS has three dot-separated parts, this has \(parts.count)") }
        print("UNVERIFIED: the signature was not checked.")
        for (name, part) in [("header", parts[0]), ("claims", parts[1])] {
            guard let bytes = Base64URL.decode(String(part)) else {
                throw ValidationError("the \(name) is not base64url")
            }
            guard let value = try? JSONParser.parse(bytes) else {
                throw ValidationError("the \(name) is not JSON")
            }
            print("\(name): \(Self.pretty(value))")
        }
        if let bytes = Base64URL.decode(String(parts[1])), let claims = try? JSONParser.parse(bytes) {
            let now = Int64(time(nil))
            if let exp = claims["exp"]?.numberValue?.int64 {
                print(exp > now ? "expires in \(exp - now) s" : "expired \(now - exp) s ago")
            } else {
                print("no exp claim")
            }
        }
    }

    static func pretty(_ v: JSONValue, indent: String = "") -> String {
        switch v {
        case .object(let o) where !o.members.isEmpty:
            let inner = indent + "  "
            let lines = o.members.map { m in inner + JSONValue.string(m.key).jsonString + ": " + pretty(m.value, indent: inner) }
            return "{\n" + lines.joined(separator: ",\n") + "\n" + indent + "}"
        default:
            return v.jsonString
        }
    }
}
