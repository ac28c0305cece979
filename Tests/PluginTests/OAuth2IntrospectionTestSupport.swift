import AuthzCore
import AuthzJSON
import AuthzTOML
import Dispatch
import JOSE
import JWTSupport
import Logging
@testable import OAuth2IntrospectionPlugin
import Synchronization
import Testing

/// An HTTPFetcher for the introspection unit tests: records each request and answers with what
/// the test scripted, at once or (`hold`) when released.
final class IntrospectionFetcher: HTTPFetcher {
    private struct State {
        var answer: Result<HTTPFetchResponse, HTTPFetchError> = .failure(HTTPFetchError("no answer scripted"))
        var holding = false
        var held: [@Sendable (Result<HTTPFetchResponse, HTTPFetchError>) -> Void] = []
        var requests: [HTTPFetchRequest] = []
    }

    private let state = Mutex(State())

    func answer(_ json: String, status: Int = 200) {
        state.withLock { $0.answer = .success(HTTPFetchResponse(status: status, headers: [], body: Array(json.utf8))) }
    }

    func fail(_ message: String) { state.withLock { $0.answer = .failure(HTTPFetchError(message)) } }
    func hold() { state.withLock { $0.holding = true } }

    func release() {
        let (answer, held) = state.withLock { s in
            s.holding = false
            defer { s.held = [] }
            return (s.answer, s.held)
        }
        for c in held { c(answer) }
    }

    var requests: [HTTPFetchRequest] { state.withLock { $0.requests } }

    func fetch(_ request: HTTPFetchRequest, completion: @escaping @Sendable (Result<HTTPFetchResponse, HTTPFetchError>) -> Void) {
        let answer: Result<HTTPFetchResponse, HTTPFetchError>? = state.withLock { s in
            s.requests.append(request)
            if s.holding {
                s.held.append(completion)
                return nil
            }
            return s.answer
        }
        if let answer { completion(answer) }
    }
}

/// Two clocks the test moves: monotonic seconds and wall seconds since the epoch.
final class IntrospectionClocks: Sendable {
    private let offset = Mutex(0.0)
    static let wallStart = 1_800_000_000.0

    func advance(_ seconds: Double) { offset.withLock { $0 += seconds } }
    var monotonic: @Sendable () -> Double { { [self] in 1000 + offset.withLock { $0 } } }
    var wall: @Sendable () -> Double { { [self] in Self.wallStart + offset.withLock { $0 } } }
    var now: Int64 { Int64(wall()) }
}

/// One `oauth2_introspection` step over a scripted fetcher and test clocks.
struct IntrospectionHarness {
    let fetcher = IntrospectionFetcher()
    let clocks = IntrospectionClocks()
    let cache: IntrospectionCache
    let plugin: OAuth2IntrospectionPlugin

    init(_ toml: String = "", cacheSize: Int = 100, baseDirectory: String = "") throws {
        let text = "url = \"https://idp.test/introspect\"\nclient_id = \"authzd\"\nclient_secret = \"s3cret\"\n" + toml
        let table = ConfigTable(file: "apps.d/test.toml", table: try TOML.parse(text), path: "chain[0]")
        let context = PluginContext(baseDirectory: baseDirectory, appName: "test", logger: Logger(label: "introspection-test", factory: { _ in SwiftLogNoOpLogHandler() }),
                                    resources: SharedResources(), fetcher: nil)
        var options = try JWTOptions.parse(table, context: context, permitted: JWSAlgorithm.allCases,
                                           defaultAlgorithms: [], defaultRequireExp: false)
        options.cacheSize = cacheSize
        guard let settings = OAuth2IntrospectionFactory.readSettings(table, context: context) else {
            throw table.errors.first ?? table.error(nil, "no settings")
        }
        cache = IntrospectionCache(settings: settings, capacity: cacheSize, fetcher: fetcher,
                                   logger: Logger(label: "introspection-test", factory: { _ in SwiftLogNoOpLogHandler() }),
                                   monotonic: clocks.monotonic, wall: clocks.wall)
        plugin = OAuth2IntrospectionPlugin(cache: cache, options: options, realm: "test")
    }

    static func request(_ token: String) -> CheckRequest {
        CheckRequest(app: "test", remoteAddr: "127.0.0.1", headers: Headers([("authorization", "Bearer " + token)]))
    }

    /// One evaluation, as the chain makes it.
    func evaluate(_ token: String) -> StepOutcome {
        plugin.evaluate(Self.request(token), now: clocks.now)
    }

    /// Evaluates, waits on whatever is pending, and evaluates again, as the server does.
    func decide(_ token: String, sourceLocation: SourceLocation = #_sourceLocation) -> StepResult? {
        for _ in 0..<4 {
            switch evaluate(token) {
            case .result(let r): return r
            case .pending(let p):
                let ready = DispatchSemaphore(value: 0)
                p.whenReady { ready.signal() }
                if ready.wait(timeout: .now() + 10) == .timedOut {
                    Issue.record("pending wait never completed", sourceLocation: sourceLocation)
                    return nil
                }
            }
        }
        Issue.record("still pending after several waits", sourceLocation: sourceLocation)
        return nil
    }
}
