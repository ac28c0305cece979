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
        try config.rejectUnknownKeys(known: JWTOptions.keys.union(["secret", "secret_file", "secrets"]))
        let options = try JWTOptions.parse(config, context: context, permitted: Self.permitted,
                                           defaultAlgorithms: [.hs256], defaultRequireExp: false)
        var raw: [(kid: String?, bytes: [UInt8], key: String, line: Int)] = []
        let hasSecret = config.has("secret"), hasFile = config.has("secret_file"), hasList = config.has("secrets")
        guard [hasSecret, hasFile, hasList].filter({ $0 }).count == 1 else {
            throw config.error(nil, "jwt_hmac needs exactly one of secret, secret_file or secrets")
        }
        if let s = try config.string("secret") {
            raw.append((nil, Array(s.utf8), "secret", config.line(of: "secret")))
        }
        if let f = try config.string("secret_file") {
            raw.append((nil, try Self.readSecret(f, config: config, key: "secret_file", context: context), "secret_file", config.line(of: "secret_file")))
        }
        if let list = try config.tableList("secrets") {
            guard !list.isEmpty else { throw config.error("secrets", "secrets must not be empty") }
            for item in list {
                let kid = try item.string("kid")
                let inline = try item.string("secret")
                let file = try item.string("secret_file")
                try item.finish()
                switch (inline, file) {
                case (let s?, nil): raw.append((kid, Array(s.utf8), "secret", item.line(of: "secret")))
                case (nil, let f?): raw.append((kid, try Self.readSecret(f, config: item, key: "secret_file", context: context), "secret_file", item.line(of: "secret_file")))
                default: throw item.error(nil, "each entry of secrets needs exactly one of secret or secret_file")
                }
                if let kid, raw.dropLast().contains(where: { $0.kid == kid }) {
                    throw item.error("kid", "kid \"\(kid)\" is used twice")
                }
            }
        }
        try config.finish()
        let needed = options.algorithms.map(Self.hash).map(\.byteCount).max() ?? 32
        var secrets: [JWTHMACPlugin.Secret] = []
        for r in raw {
            guard r.bytes.count >= needed else {
                throw ConfigError(file: config.file, line: r.line,
                                  message: "\(r.key) is \(r.bytes.count) bytes; \(options.algorithms.map(\.rawValue).joined(separator: "/")) needs at least \(needed)")
            }
            var keys: [JWSAlgorithm: HMACKey] = [:]
            for alg in options.algorithms { keys[alg] = HMACKey(algorithm: Self.hash(alg), key: r.bytes) }
            secrets.append(.init(kid: r.kid, keys: keys))
        }
        return JWTHMACPlugin(secrets: secrets, options: options,
                             verdict: JWTVerdict(realm: context.appName, options: options),
                             cache: VerifiedTokenCache(capacity: options.cacheSize))
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
        switch readFileBytes(context.resolve(path), limit: 1 << 16) {
        case .success(var bytes):
            if bytes.last == 0x0A { bytes.removeLast() }
            if bytes.last == 0x0D { bytes.removeLast() }
            return bytes
        case .failure(let e):
            throw config.error(key, e.message)
        }
    }
}
