@testable import AuthzMetrics
import NIOHTTP1
import Testing

@Suite struct MetricsRouteTests {
    @Test func getMetricsIsTheExpositionAndHeadTheSameWithoutBody() {
        #expect(MetricsRoute(method: .GET, uri: "/metrics", hasHealth: false) == .metrics(includeBody: true))
        #expect(MetricsRoute(method: .HEAD, uri: "/metrics", hasHealth: false) == .metrics(includeBody: false))
        #expect(MetricsRoute(method: .GET, uri: "/metrics?name[]=x", hasHealth: false) == .metrics(includeBody: true))
    }

    @Test(arguments: [HTTPMethod.POST, .PUT, .DELETE, .PATCH, .OPTIONS, .RAW(value: "BREW")])
    func otherMethodsOnAKnownPathAreRefused(method: HTTPMethod) {
        #expect(MetricsRoute(method: method, uri: "/metrics", hasHealth: true) == .methodNotAllowed)
        #expect(MetricsRoute(method: method, uri: "/healthz", hasHealth: true) == .methodNotAllowed)
    }

    @Test(arguments: ["/", "/metrics/", "/Metrics", "//metrics", "/metrics/../metrics", "http://x/metrics", "*", "", "/healthz/"])
    func anyOtherTargetIsNotFound(uri: String) {
        #expect(MetricsRoute(method: .GET, uri: uri, hasHealth: true) == .notFound)
    }

    @Test func healthExistsOnlyWhenTheListenerHasACheck() {
        #expect(MetricsRoute(method: .GET, uri: "/healthz", hasHealth: false) == .notFound)
        #expect(MetricsRoute(method: .GET, uri: "/healthz", hasHealth: true) == .health(includeBody: true))
        #expect(MetricsRoute(method: .HEAD, uri: "/healthz", hasHealth: true) == .health(includeBody: false))
    }
}
