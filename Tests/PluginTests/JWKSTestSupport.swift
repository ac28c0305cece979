import AuthzCore
import AuthzCrypto
import AuthzJSON
import AuthzTOML
import Foundation
import JOSE
import JWTSupport
@testable import JWKSPlugin
import Logging
import Synchronization
import Testing

/// A signing key made in-process, with its public JWK.
struct JWKSTestKey: Sendable {
    let kid: String?
    let alg: JWSAlgorithm
    let privateKey: PrivateKey

    /// Keys are slow to make (RSA): one per kind per test process.
    static let rsa = try! PrivateKey(generating: .rsa(bits: 2048))
    static let rsaOther = try! PrivateKey(generating: .rsa(bits: 2048))
    static let p256 = try! PrivateKey(generating: .ec(.p256))
    static let p384 = try! PrivateKey(generating: .ec(.p384))
    static let p521 = try! PrivateKey(generating: .ec(.p521))
    static let ed25519 = try! PrivateKey(generating: .ed25519)

    init(kid: String?, alg: JWSAlgorithm, _ key: PrivateKey) {
        self.kid = kid
        self.alg = alg
        self.privateKey = key
    }

    /// The public JWK, with `kid`, `use: sig`, and the extra members given (`.null` removes one).
    func jwk(alg includeAlg: Bool = false, _ extra: [(String, JSONValue)] = []) -> JSONValue {
        var o = JSONObject()
        switch privateKey.publicKey.components {
        case .rsa(let n, let e):
            o["kty"] = "RSA"
            o["n"] = .string(Base64URL.encode(n))
            o["e"] = .string(Base64URL.encode(e))
        case .ec(let curve, let x, let y):
            o["kty"] = "EC"
            o["crv"] = .string(curve.rawValue)
            o["x"] = .string(Base64URL.encode(x))
            o["y"] = .string(Base64URL.encode(y))
        case .ed25519(let x):
            o["kty"] = "OKP"
            o["crv"] = "Ed25519"
            o["x"] = .string(Base64URL.encode(x))
        }
        if let kid { o["kid"] = .string(kid) }
        o["use"] = "sig"
        if includeAlg { o["alg"] = .string(alg.rawValue) }
        for (k, v) in extra { o[k] = v == .null ? nil : v }
        return .object(o)
    }

    /// A token signed by this key; `kid` defaults to the key's, `.some(nil)` leaves it out.
    func token(_ claims: JSONObject = JWKSTestKey.validClaims(), kid: String?? = .none, alg: JWSAlgorithm? = nil) -> String {
        try! JWSSigner.sign(claims: claims, kid: kid ?? self.kid, algorithm: alg ?? self.alg, key: privateKey)
    }

    static func validClaims(sub: String = "alice", exp: Int64 = JWKSTestKey.now + 3600) -> JSONObject {
        JSONObject([("sub", .string(sub)), ("exp", .number(JSONNumber(Int(exp))))])
    }

    /// The `now` the unit tests evaluate at.
    static let now: Int64 = 1_800_000_000
}

/// The public half of a 1024-bit RSA key made for these tests (OpenSSL will not generate one).
let weakRSAJWK: JSONValue = [
    "kty": "RSA", "kid": "weak", "use": "sig", "e": "AQAB",
    "n": "5XFUvhxnvsv4YfzlLEXAWkIv1ZcFgByvcqLCcng2tsVhNXLOBDQ08HYwW_DBSNFqfiGzOYDRdhLjhQE1aixaWcfhTZ5kNoVCxf-sP8v6KaBkwKN_XaIv2bsbaSgHP4TjZuJdxoVh3RHya_0ESQc4QT93Z_9mBhkDROHR_PbNDBc",
]

/// A JWK set document.
func jwksDocument(_ keys: [JSONValue]) -> [UInt8] {
    var w = JSONWriter()
    w.write(.object(JSONObject([("keys", .array(keys))])))
    return w.bytes
}

/// An HTTPFetcher whose answers the test sets. By default it answers at once, on the calling
/// thread; `holding` keeps completions until `release()`.
final class ScriptedFetcher: HTTPFetcher {
    private struct State {
        var answer: Result<HTTPFetchResponse, HTTPFetchError> = .failure(HTTPFetchError("no answer scripted"))
        /// Answers for particular URLs, before `answer`.
        var byURL: [String: Result<HTTPFetchResponse, HTTPFetchError>] = [:]
        var requests: [HTTPFetchRequest] = []
        var holding = false
        var held: [@Sendable (Result<HTTPFetchResponse, HTTPFetchError>) -> Void] = []
        var count = 0
    }

    private let state = Mutex(State())

    func serve(_ body: [UInt8], status: Int = 200, headers: [(String, String)] = []) {
        state.withLock { $0.answer = .success(HTTPFetchResponse(status: status, headers: headers, body: body)) }
    }

    func serve(keys: [JSONValue], headers: [(String, String)] = []) {
        serve(jwksDocument(keys), headers: headers)
    }

    func fail(_ message: String) {
        state.withLock { $0.answer = .failure(HTTPFetchError(message)) }
    }

    /// Answers fetches of `url` with `body` (JSON) and `status`, whatever `serve` says.
    func serve(url: String, _ body: JSONValue, status: Int = 200, headers: [(String, String)] = []) {
        var w = JSONWriter()
        w.write(body)
        let bytes = w.bytes
        state.withLock { $0.byURL[url] = .success(HTTPFetchResponse(status: status, headers: headers, body: bytes)) }
    }

    /// Fails fetches of `url`.
    func fail(url: String, _ message: String) {
        state.withLock { $0.byURL[url] = .failure(HTTPFetchError(message)) }
    }

    /// Every request, in order.
    var requests: [HTTPFetchRequest] { state.withLock { $0.requests } }

    /// Every URL fetched, in order.
    var urls: [String] { requests.map(\.url) }

    /// How many times `url` was fetched.
    func fetchCount(_ url: String) -> Int { urls.filter { $0 == url }.count }

    func hold() { state.withLock { $0.holding = true } }

    /// Answers every held fetch with the current answer and stops holding.
    func release() {
        let (answer, held) = state.withLock { s in
            s.holding = false
            defer { s.held = [] }
            return (s.answer, s.held)
        }
        for c in held { c(answer) }
    }

    var fetchCount: Int { state.withLock { $0.count } }
    var heldCount: Int { state.withLock { $0.held.count } }

    func fetch(_ request: HTTPFetchRequest, completion: @escaping @Sendable (Result<HTTPFetchResponse, HTTPFetchError>) -> Void) {
        let answer: Result<HTTPFetchResponse, HTTPFetchError>? = state.withLock { s in
            s.count += 1
            s.requests.append(request)
            if s.holding {
                s.held.append(completion)
                return nil
            }
            return s.byURL[request.url] ?? s.answer
        }
        if let answer { completion(answer) }
    }
}

/// A `ConfigTable` from TOML text, as one chain step's keys.
func jwksStepTable(_ toml: String, file: String = "apps.d/test.toml") -> ConfigTable {
    ConfigTable(file: file, table: try! TOML.parse(toml), path: "chain[0]")
}

func jwksContext(fetcher: (any HTTPFetcher)? = nil, resources: SharedResources = SharedResources(),
                 baseDirectory: String = "") -> PluginContext {
    PluginContext(baseDirectory: baseDirectory, appName: "test", logger: Logger(label: "jwks-test"),
                  resources: resources, fetcher: fetcher)
}

/// A plugin over a cache with a scripted fetcher on virtual time: background refreshes run only
/// when the test moves the clock past them.
struct JWKSHarness {
    let fetcher = ScriptedFetcher()
    let clock = VirtualClock()
    let cache: JWKSCache
    let plugin: JWKSPlugin

    init(_ toml: String = "url = \"https://idp.test/jwks.json\"\nalgorithms = [\"RS256\", \"RS384\", \"RS512\", \"PS256\", \"PS384\", \"PS512\", \"ES256\", \"ES384\", \"ES512\", \"EdDSA\"]",
         tokenCacheSize: Int = 100) {
        let table = jwksStepTable(toml)
        let context = jwksContext()
        let settings = try! JWKSFactory.settings(table, context: context)
        let options = try! JWTOptions.parse(table, context: context, permitted: JWKSFactory.permitted,
                                            defaultAlgorithms: [.rs256], defaultRequireExp: true)
        cache = JWKSCache(settings: settings, fetcher: fetcher, logger: Logger(label: "jwks-test"), clock: clock)
        var opts = JWKSFactory.checkingIssuer(options, of: settings)
        opts.cacheSize = tokenCacheSize
        plugin = JWKSPlugin(cache: cache, options: opts, realm: "test")
    }

    func request(_ token: String?) -> CheckRequest {
        CheckRequest(app: "test", remoteAddr: "127.0.0.1",
                     headers: Headers(token.map { [("authorization", "Bearer \($0)")] } ?? []))
    }

    /// Evaluates, following pending waits the way the chain does (each wait must complete).
    func evaluate(_ token: String?, now: Int64 = JWKSTestKey.now, sourceLocation: SourceLocation = #_sourceLocation) -> StepResult? {
        let req = request(token)
        for _ in 0..<5 {
            switch plugin.evaluate(req, now: now) {
            case .result(let r): return r
            case .pending(let p):
                let done = Mutex(false)
                p.whenReady { done.withLock { $0 = true } }
                guard done.withLock({ $0 }) else {
                    Issue.record("step is pending on a fetch that has not completed", sourceLocation: sourceLocation)
                    return nil
                }
            }
        }
        Issue.record("step stayed pending after its fetch completed (pending loop)", sourceLocation: sourceLocation)
        return nil
    }
}
