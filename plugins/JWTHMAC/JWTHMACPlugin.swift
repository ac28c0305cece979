import AuthzCore
import AuthzCrypto
import JOSE
import JWTSupport

/// `jwt_hmac`: JWTs signed with a shared secret (HS256/384/512), as Ant Media's JWT filter
/// issues them, with claim checks on top.
public struct JWTHMACPlugin: ChainPlugin {
    /// One secret, ready to verify with each permitted algorithm.
    struct Secret: Sendable {
        let kid: String?
        let keys: [JWSAlgorithm: HMACKey]
    }

    let secrets: [Secret]
    let options: JWTOptions
    let verdict: JWTVerdict
    let cache: VerifiedTokenCache

    public func evaluate(_ request: CheckRequest, now: Int64) -> StepOutcome {
        guard let token = options.token(in: request) else { return .result(verdict.noToken()) }
        if let claims = cache.claims(for: token) {
            return .result(verdict.decide(claims: claims, now: now))
        }
        let jws: CompactJWS
        switch verdict.parse(token) {
        case .token(let t): jws = t
        case .denied(let d): return .result(d)
        }
        var candidates = secrets
        if let kid = jws.kid {
            let named = secrets.filter { $0.kid == kid }
            if !named.isEmpty {
                candidates = named
            } else {
                candidates = secrets.filter { $0.kid == nil }
                if candidates.isEmpty {
                    return .result(verdict.invalid(.unknownKid, message: "no secret has this token's kid"))
                }
            }
        }
        for secret in candidates {
            guard let key = secret.keys[jws.algorithm] else { continue }
            if JWSVerifier.verify(jws, hmac: key) {
                cache.insert(token, claims: jws.claims)
                return .result(verdict.decide(claims: jws.claims, now: now))
            }
        }
        return .result(verdict.invalid(.badSignature, message: "signature does not verify"))
    }
}


/// Builds `jwt_hmac` steps.
public struct JWTHMACFactory: PluginFactory {
    public let name = "jwt_hmac"
    static let permitted: [JWSAlgorithm] = [.hs256, .hs384, .hs512]

    public init() {}

    public func makePlugin(config: ConfigTable, context: PluginContext) throws(ConfigError) -> any ChainPlugin {
        config.rejectUnknownKeys(known: JWTOptions.keys.union(["secret", "secret_file", "secrets"]))
        let options = JWTOptions.read(config, context: context, permitted: Self.permitted,
                                      defaultAlgorithms: [.hs256], defaultRequireExp: false)
        let hasSecret = config.has("secret"), hasFile = config.has("secret_file"), hasList = config.has("secrets")
        if [hasSecret, hasFile, hasList].filter({ $0 }).count != 1 {
            config.record(config.error(nil, "jwt_hmac needs exactly one of secret, secret_file or secrets"))
        }
        // Every secret given is read and measured, even next to another error, so that a short
        // secret is reported in the same run as a type error elsewhere in the step.
        var raw: [RawSecret] = []
        if let s = config.attempt({ () throws(ConfigError) in try config.string("secret") }) ?? nil {
            raw.append(RawSecret(kid: nil, bytes: Array(s.utf8), key: "secret", table: config))
        }
        if let f = config.attempt({ () throws(ConfigError) in try config.string("secret_file") }) ?? nil,
           let bytes = config.attempt({ () throws(ConfigError) in try Self.readSecret(f, config: config, key: "secret_file", context: context) }) {
            raw.append(RawSecret(kid: nil, bytes: bytes, key: "secret_file", table: config))
        }
        if let list = config.attempt({ () throws(ConfigError) in try config.tableList("secrets") }) ?? nil {
            if list.isEmpty { config.record(config.error("secrets", "secrets must not be empty")) }
            var kids: Set<String> = []
            for item in list {
                let kid = item.attempt { () throws(ConfigError) in try item.string("kid") } ?? nil
                let inline = item.attempt { () throws(ConfigError) in try item.string("secret") } ?? nil
                let file = item.attempt { () throws(ConfigError) in try item.string("secret_file") } ?? nil
                item.reportUnknownKeys()
                if let kid, !kids.insert(kid).inserted {
                    item.record(item.error("kid", "kid \"\(kid)\" is used twice"))
                }
                if item.has("secret") == item.has("secret_file") {
                    item.record(item.error(nil, "each entry of secrets needs exactly one of secret or secret_file"))
                }
                if let inline {
                    raw.append(RawSecret(kid: kid, bytes: Array(inline.utf8), key: "secret", table: item))
                }
                if let file, let bytes = item.attempt({ () throws(ConfigError) in
                    try Self.readSecret(file, config: item, key: "secret_file", context: context)
                }) {
                    raw.append(RawSecret(kid: kid, bytes: bytes, key: "secret_file", table: item))
                }
            }
        }
        let needed = options.algorithms.map(Self.hash).map(\.byteCount).max() ?? 32
        for r in raw where r.bytes.count < needed {
            r.table.record(r.table.error(r.key, "\(r.key) is \(r.bytes.count) bytes; \(options.algorithms.map(\.rawValue).joined(separator: "/")) needs at least \(needed)"))
        }
        try config.finish()
        let secrets = raw.map { r in
            var keys: [JWSAlgorithm: HMACKey] = [:]
            for alg in options.algorithms { keys[alg] = HMACKey(algorithm: Self.hash(alg), key: r.bytes) }
            return JWTHMACPlugin.Secret(kid: r.kid, keys: keys)
        }
        return JWTHMACPlugin(secrets: secrets, options: options,
                             verdict: JWTVerdict(realm: context.appName, options: options),
                             cache: VerifiedTokenCache(capacity: options.cacheSize))
    }

    /// A secret as read, before its length is checked; `table` and `key` locate it for messages.
    private struct RawSecret {
        let kid: String?
        let bytes: [UInt8]
        let key: String
        let table: ConfigTable
    }

    static func hash(_ alg: JWSAlgorithm) -> HashFunction {
        switch alg {
        case .hs384: .sha384
        case .hs512: .sha512
        default: .sha256
        }
    }

    /// A secret file's bytes, without one trailing newline (editors add one).
    static func readSecret(_ path: String, config: ConfigTable, key: String, context: PluginContext) throws(ConfigError) -> [UInt8] {
        switch readSecretFile(context.resolve(path)) {
        case .success(let bytes): return bytes
        case .failure(let e): throw config.error(key, e.message)
        }
    }
}
