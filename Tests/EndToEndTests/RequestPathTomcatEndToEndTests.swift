import AuthzJSON
import AuthzText
import Foundation
import Testing

/// `RequestPath` against the servlet container it imitates: each target it accepts is sent as it
/// is to a real Tomcat (one context per app, as Ant Media Server runs), and the path Tomcat routes
/// (the context's path + servlet path + path info) must be the normalised path, fully decoded.
/// ("/LiveApp" alone would be answered with a redirect to "/LiveApp/", so no target here
/// normalises to a bare context.)
@Suite("RequestPath agrees with Tomcat")
struct RequestPathTomcatEndToEndTests {
    /// Spellings of Ant Media REST paths; RequestPathTests holds the expected normal forms.
    static let targets = [
        "/LiveApp/rest/v2/broadcasts/create",
        "/LiveApp/rest/v2/broadcasts/list/0/10?sort_by=name",
        "/LiveApp/rest;jsessionid=1/v2/broadcasts/create",
        "/LiveApp;x/rest/v2/broadcasts/create",
        "/LiveApp/rest/v2/broadcasts/create;jsessionid=0123456789ABCDEF",
        "/LiveApp/rest/v2/broadcasts/create;",
        "/LiveApp/rest/;x/v2/broadcasts/create",
        "/LiveApp/x/..;/rest/v2/broadcasts/create",
        "/StreamApp/..;/LiveApp/rest/v2/broadcasts/create",
        "/x/..;/LiveApp/rest/v2/broadcasts/create",
        "/LiveApp/rest/v2/.;x/broadcasts/create",
        "/LiveApp/rest/%2e%2e/%2e%2e/StreamApp/rest/v2",
        "/StreamApp/rest/%2E%2E/%2E%2E/LiveApp/rest/v2/broadcasts/create",
        "/LiveApp/x/.%2e/rest/v2/broadcasts/create",
        "/LiveApp/rest/v2/%2e/broadcasts/create",
        "/LiveApp/rest%3bx/v2/broadcasts/create",
        "/LiveApp/rest/%252e%252e/x",
        "//LiveApp/rest/v2/broadcasts/create",
        "/LiveApp//rest/v2/broadcasts/create",
        "/LiveApp/rest/v2/broadcasts//",
        "/StreamApp/rest/../../LiveApp/rest/v2/broadcasts/create",
        "/LiveApp/./rest/v2/broadcasts/create",
        "/LiveApp/rest/v2/broadcasts/create/..",
        "/LiveApp/rest/v2/broadcasts/create/.",
        "/LiveApp/%72est/v2/broadcasts/create",
        "/%4CiveApp/rest/v2/broadcasts/create",
        "/LiveApp/rest/v2/caf%c3%a9/%7euser",
        "/LiveApp/rest/v2/a%20b",
        "/LiveApp/rest/v2/broadcasts/create?x=;/../..;/%2e%2e//",
        "/LiveApp/REST/v2",
        "/",
        "/LiveApp/a/b/..",
        "/LiveApp/a/.;x",
        "/LiveApp/a/;x",
    ]

    @Test func everyAcceptedSpellingNormalisesToThePathTomcatRoutes() throws {
        let dir = try TempDirectory("authzd-tomcat-path")
        let tomcat = try TomcatUpstream(dir: dir, contexts: ["LiveApp", "StreamApp"])
        for target in Self.targets {
            let normalised = try RequestPath(normalizing: target)
            let r = try Curl.request("http://127.0.0.1:\(tomcat.port)\(target)", options: ["--path-as-is"])
            // getContextPath() is the raw prefix ("/%4CiveApp", "/x/..;/LiveApp"): take the
            // context's own path instead.
            guard let seen = TomcatUpstream.Seen(body: r.body), let context = (try? JSONParser.parse(r.body))?["context"]?.stringValue else {
                Issue.record("\(target): Tomcat answered \(r.status) \(r.body)")
                continue
            }
            let routed = context + seen.servletPath + (seen.pathInfo ?? "")
            #expect(routed == Self.decoded(normalised.text), "\(target): authzd \(normalised.text), Tomcat \(routed)")
        }
    }

    /// Every escape decoded, as the container hands the path to the application.
    static func decoded(_ text: String) -> String {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let c = bytes.popFirst() {
            if c == UInt8(ascii: "%"), bytes.count >= 2, let v = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) {
                out.append(v)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(c)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
