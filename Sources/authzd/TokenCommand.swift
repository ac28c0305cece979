import ArgumentParser
import AuthzCore
import AuthzCrypto
import AuthzJSON
import AuthzText
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

    @Option(help: "The shared secret (at least as long as the algorithm's hash: 32, 48 or 64 bytes).")
    var secret: String?
    @Option(name: .customLong("secret-file"), help: "A file holding the secret (one trailing newline is ignored).")
    var secretFile: String?
    @Option(help: "HS256, HS384 or HS512.") var alg: String = "HS256"
    @Option(help: "Key id for the header.") var kid: String?
    @Option(name: .customLong("claim"), parsing: .singleValue,
            help: "NAME=VALUE; JSON numbers and booleans are typed.") var claims: [String] = []
    @Option(name: .customLong("expires-in"), help: "Set exp this many seconds from now.") var expiresIn: Int?

    func run() throws {
        let command = "token mint"
        guard let algorithm = JWSAlgorithm(rawValue: alg), let hash = algorithm.hmacHash else {
            throw failure(command, "--alg must be HS256, HS384 or HS512, not \"\(LogText.escaped(alg))\"", exitCode: ExitStatus.usage)
        }
        let key: [UInt8]
        let source: String
        switch (secret, secretFile) {
        case (let s?, nil):
            key = Array(s.utf8)
            source = "--secret"
        case (nil, let f?):
            switch readSecretFile(f) {
            case .success(let bytes): key = bytes
            case .failure(let e): throw failure(command, LogText.escaped(e.message), exitCode: ExitStatus.noInput)
            }
            source = "the secret in \(LogText.escaped(f))"
        default:
            throw failure(command, "give exactly one of --secret or --secret-file", exitCode: ExitStatus.usage)
        }
        // The daemon refuses such a secret in its configuration; a token made with one could
        // never be checked, and a short HMAC key is guessable offline from any token it signed.
        guard key.count >= hash.byteCount else {
            throw failure(command, "\(source) is \(key.count) bytes; \(algorithm.rawValue) needs at least \(hash.byteCount), as in the configuration",
                          exitCode: ExitStatus.usage)
        }
        var payload = JSONObject()
        for c in claims {
            guard let eq = c.firstIndex(of: "="), eq != c.startIndex else {
                throw failure(command, "--claim takes NAME=VALUE, not \"\(LogText.escaped(c))\"", exitCode: ExitStatus.usage)
            }
            payload[String(c[..<eq])] = Self.typedValue(String(c[c.index(after: eq)...]))
        }
        if let expiresIn {
            let (exp, overflow) = Int(time(nil)).addingReportingOverflow(expiresIn)
            guard !overflow, abs(expiresIn) <= 100 * 365 * 86400 else {
                throw failure(command, "--expires-in must be within 100 years (\(100 * 365 * 86400) seconds)", exitCode: ExitStatus.usage)
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

    // Every word is taken, even one that starts with "-" (base64url has "-"): a malformed token
    // gets a sentence about the token, not a usage message about an unknown option.
    @Argument(parsing: .allUnrecognized, help: "The token (a leading 'Bearer ' is ignored).")
    var words: [String] = []

    func run() throws {
        let command = "token inspect"
        var words = self.words
        if words.count == 2, words[0].lowercased() == "bearer" { words.removeFirst() }
        guard words.count == 1 else {
            throw failure(command, words.isEmpty ? "give the token to inspect" : "give one token, not \(words.count) arguments",
                          exitCode: ExitStatus.usage)
        }
        let report: TokenReport
        switch TokenReport.read(words[0]) {
        case .success(let r): report = r
        case .failure(let problem): throw failure(command, problem.message, exitCode: 1)
        }
        print("UNVERIFIED: the signature was not checked.")
        print("header: \(Self.pretty(.object(report.header)))")
        print("claims: \(Self.pretty(.object(report.claims)))")
        if !report.hasSignature { print("no signature (an unsecured token; authzd accepts none of these)") }
        let now = Int64(time(nil))
        if let exp = report.claims["exp"]?.numberValue?.int64 {
            print(exp > now ? "expires in \(exp - now) s" : "expired \(now - exp) s ago")
        } else {
            print("no exp claim")
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
