import NIOHTTP1

/// What the metrics listener does with a request, decided from its method and target alone (the
/// channel handler only carries it out), so tests can drive it without a socket.
enum MetricsRoute: Equatable {
    /// `GET /metrics` (`HEAD`: the same head without the body).
    case metrics(includeBody: Bool)
    /// `GET /healthz`, when the listener has a health check.
    case health(includeBody: Bool)
    case notFound
    /// A known path asked with a method it does not take.
    case methodNotAllowed

    /// The methods every known path takes, for `Allow`.
    static let allowedMethods = "GET, HEAD"

    /// The route for `method` and request target `uri`; a query string is ignored, and only an
    /// origin-form target (`/path`) names a path.
    init(method: HTTPMethod, uri: String, hasHealth: Bool) {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let known: (Bool) -> MetricsRoute
        switch path {
        case "/metrics": known = { .metrics(includeBody: $0) }
        case "/healthz" where hasHealth: known = { .health(includeBody: $0) }
        default:
            self = .notFound
            return
        }
        switch method {
        case .GET: self = known(true)
        case .HEAD: self = known(false)
        default: self = .methodNotAllowed
        }
    }
}
