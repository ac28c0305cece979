import Foundation
import Testing

/// The nginx edge (deploy/nginx, as shipped) in front of a real servlet container: embedded
/// Tomcat 10.1 with one context per app and a servlet on /rest/*, as Ant Media Server serves its
/// REST API. Tomcat parses the raw request target itself (path parameters, "..;", %2e, ...)
/// while nginx routes on its decoded $uri; every spelling below must either be refused by nginx
/// or go through auth_request, and never reach the servlet without authzd's yes.
@Suite("nginx edge in front of Tomcat")
struct NginxTomcatEndToEndTests {
    static let liveSecret = "zautXStXM9iW3aD3FuyPH0TdK4GHPmHq"

    static let apps: [String: String] = [
        "LiveApp": """
            [[chain]]
            plugin = "ip_allowlist"
            allow = ["127.0.0.1"]

            [[chain]]
            plugin = "jwt_hmac"
            secret = "\(liveSecret)"
            forward_claims = { sub = "x-auth-subject" }
            """,
        // Ant Media's default: the IP filter alone, no identity. 127.0.0.1 passes without a token.
        "StreamApp": """
            [[chain]]
            plugin = "ip_allowlist"
            allow = ["127.0.0.1"]
            """,
    ]

    /// nginx, the shim on its Unix socket (as authzd-upstream.conf ships), authzd and Tomcat.
    static func stack(exemptPlayerPage: Bool = false, decisionCache: Bool = false, lenientTomcat: Bool = false) throws -> NginxStack {
        try NginxStack(apps: apps, decisionCache: decisionCache, tomcat: true, lenientTomcat: lenientTomcat,
                       shimOnUnixSocket: true, exemptPlayerPage: exemptPlayerPage)
    }

    /// Headers a client might send to pose as someone, or to steer the check.
    static let forged = [
        "X-Auth-Subject: admin", "x-auth-subject: root", "X-Authz-App: StreamApp", "X-Authz-Reason: ok",
        "X-Original-URI: /StreamApp/rest/v2", "X-Original-Method: GET",
        "X-Real-IP: 10.9.9.9", "X-Forwarded-For: 10.9.9.9",
    ]

    /// What a spelling must get.
    enum Outcome: CustomStringConvertible {
        /// nginx answers 400 itself, with or without a token.
        case refused
        /// Through auth_request: 401 without a token; with LiveApp's token the servlet of
        /// context /LiveApp runs with this servlet path and path info, as alice.
        case authenticated(servletPath: String, pathInfo: String?)
        /// 403 with or without a token: the path names no configured app.
        case unknownApp
        /// Some other status nginx answers itself (e.g. 404 for the internal /_authz).
        case answeredByNginx(Int)

        var description: String {
            switch self {
            case .refused: "refused with 400"
            case .authenticated(let s, let p): "authenticated (\(s) \(p ?? "nil"))"
            case .unknownApp: "403 unknown_app"
            case .answeredByNginx(let s): "\(s) from nginx"
            }
        }
    }

    struct Spelling: CustomStringConvertible {
        let target: String
        let method: String
        let outcome: Outcome
        /// Sent as the request target exactly (curl --request-target), e.g. an absolute form.
        let raw: Bool

        init(_ target: String, _ outcome: Outcome, method: String = "POST", raw: Bool = false) {
            self.target = target
            self.outcome = outcome
            self.method = method
            self.raw = raw
        }

        var description: String { "\(method) \(target)" }
    }

    /// Ways to spell a path so that nginx and a servlet container may disagree on it.
    static func spellings(port: Int) -> [Spelling] {
        let create = Outcome.authenticated(servletPath: "/rest", pathInfo: "/v2/broadcasts/create")
        return [
            // The plain call, as Ant Media's JWT guide makes it.
            Spelling("/LiveApp/rest/v2/broadcasts/create", create),
            // Path parameters: Tomcat strips ";..." from each segment, nginx does not.
            Spelling("/LiveApp/rest;x/v2/broadcasts/create", .refused),
            Spelling("/LiveApp;x/rest/v2/broadcasts/create", .refused),
            Spelling("/LiveApp;jsessionid=0123456789ABCDEF/rest/v2/broadcasts/create", .refused),
            Spelling("/LiveApp/rest/v2/broadcasts/create;jsessionid=0123456789ABCDEF", .refused),
            Spelling("/LiveApp/rest/v2/broadcasts/create;", .refused),
            // "..;" is a dot segment to Tomcat and a name to nginx.
            Spelling("/LiveApp/x/..;/rest/v2/broadcasts/create", .refused, method: "GET"),
            Spelling("/StreamApp/..;/LiveApp/rest/v2/broadcasts/create", .refused),
            Spelling("/x/..;/LiveApp/rest/v2/broadcasts/create", .refused),
            // Encoded dots, slashes, backslashes and semicolons, any case.
            Spelling("/LiveApp/rest/%2e%2e/%2e%2e/StreamApp/rest/v2", .refused),
            Spelling("/StreamApp/rest/%2E%2E/%2E%2E/LiveApp/rest/v2/broadcasts/create", .refused),
            Spelling("/LiveApp/x/.%2e/rest/v2/broadcasts/create", .refused),
            Spelling("/LiveApp/rest/v2/%2e/broadcasts/create", .refused),
            Spelling("/LiveApp/rest%2fv2/broadcasts/create", .refused),
            Spelling("/LiveApp%2Frest/v2/broadcasts/create", .refused),
            Spelling("/LiveApp/rest%5cv2/broadcasts/create", .refused),
            Spelling("/LiveApp/rest/%5C..%5C..%5CStreamApp/rest", .refused),
            Spelling("/LiveApp/rest%3bx/v2/broadcasts/create", .refused),
            // Through a Tomcat that decodes %2f / %5c, these would run LiveApp under StreamApp's policy.
            Spelling("/StreamApp/rest/..%2f..%2fLiveApp/rest/v2/broadcasts/create", .refused),
            Spelling("/StreamApp%5c..%5cLiveApp/rest/v2/broadcasts/create", .refused),
            // Double encoding: %25 is "%", decoded once by each side.
            Spelling("/LiveApp/rest/%252e%252e/x", .refused),
            // A raw backslash, which some containers turn into "/".
            Spelling("/LiveApp/rest\\..\\..\\StreamApp/rest/v2", .refused),
            // Doubled slashes: nginx merges them in $uri, Tomcat merges them too, and the
            // segment counting of a location regex does not.
            Spelling("//LiveApp/rest/v2/broadcasts/create", .refused),
            Spelling("/LiveApp//rest/v2/broadcasts/create", .refused),
            Spelling("/LiveApp/rest//v2/broadcasts/create", .refused),
            // Plain dot segments, which nginx and Tomcat each resolve.
            Spelling("/StreamApp/rest/../../LiveApp/rest/v2/broadcasts/create", .refused),
            Spelling("/LiveApp/./rest/v2/broadcasts/create", .refused),
            Spelling("/LiveApp/rest/v2/broadcasts/create/..", .refused),
            Spelling("/LiveApp/rest/v2/broadcasts/create/.", .refused),
            // NUL, CR/LF (header injection into the check) and other controls.
            Spelling("/LiveApp/rest/v2/broadcasts%00/create", .refused),
            Spelling("/LiveApp/rest/v2/%0d%0aX-Authz-App:%20StreamApp/create", .refused),
            Spelling("/Live%0D%0AX-Authz-App:%20StreamApp/rest/v2/broadcasts/create", .refused),
            Spelling("/StreamApp%0aX-Injected:%201/rest/v2/broadcasts/create", .refused),
            Spelling("/LiveApp/rest/v2/%09/create", .refused),
            Spelling("/LiveApp/rest/v2/%7f/create", .refused),
            // Overlong UTF-8 for "." and "/".
            Spelling("/LiveApp/rest/%c0%ae%c0%ae/%c0%ae%c0%ae/StreamApp/rest", .refused),
            Spelling("/LiveApp/rest%c0%afv2/broadcasts/create", .refused),
            Spelling("/LiveApp/rest/%e0%80%ae%e0%80%ae/x", .refused),
            Spelling("/LiveApp/rest/%f0%80%80%ae/x", .refused),
            // Broken percent-encoding, which nginx cannot decode.
            Spelling("/LiveApp/rest/%zz/x", .refused),
            Spelling("/LiveApp/rest/v2/broadcasts/create%", .refused),
            // IIS-style %u escapes, which neither side should decode.
            Spelling("/LiveApp/rest/%u002e%u002e/x", .refused),
            // Percent-encoded unreserved characters decode the same on both sides: checked.
            Spelling("/LiveApp/%72est/v2/broadcasts/create", create),
            Spelling("/%4CiveApp/rest/v2/broadcasts/create", create),
            // A query may hold anything; it names no path.
            Spelling("/LiveApp/rest/v2/broadcasts/create?x=;/../..;/%2e%2e//", create),
            // Case: Tomcat's context paths are case-sensitive, and so are authzd's app names.
            Spelling("/liveapp/rest/v2/broadcasts/create", .unknownApp),
            Spelling("/LiveApp/REST/v2/broadcasts/create", .authenticated(servletPath: "/REST/v2/broadcasts/create", pathInfo: nil)),
            // Not only /rest/: every path of an app asks authzd (no exemption is shipped).
            Spelling("/LiveApp/play.html", .authenticated(servletPath: "/play.html", pathInfo: nil), method: "GET"),
            Spelling("/LiveApp/websocket", .authenticated(servletPath: "/websocket", pathInfo: nil), method: "GET"),
            Spelling("/LiveApp/streams/stream1.m3u8", .authenticated(servletPath: "/streams/stream1.m3u8", pathInfo: nil), method: "GET"),
            Spelling("/LiveApp/", .authenticated(servletPath: "/", pathInfo: nil), method: "GET"),
            // Paths that name no app, or no valid app name, are refused before any check.
            Spelling("/", .unknownApp, method: "GET"),
            Spelling("/Live%20App/rest/v2/broadcasts/create", .unknownApp),
            Spelling("/Live\"App/rest/v2/broadcasts/create", .unknownApp),
            Spelling("/" + String(repeating: "A", count: 65) + "/rest/v2", .unknownApp),
            Spelling("/" + String(repeating: "A", count: 64) + "/rest/v2", .unknownApp),
            Spelling("/favicon.ico", .unknownApp, method: "GET"),
            // The check endpoint itself is internal.
            Spelling("/_authz", .answeredByNginx(404), method: "GET"),
            // Absolute-form request targets: nginx takes the path from them, and judges it raw.
            Spelling("http://127.0.0.1:\(port)/LiveApp/rest/v2/broadcasts/create", create, raw: true),
            Spelling("http://127.0.0.1:\(port)/LiveApp/rest;x/v2/broadcasts/create", .refused, raw: true),
            Spelling("http://127.0.0.1:\(port)/x/..;/LiveApp/rest/v2/broadcasts/create", .refused, raw: true),
            Spelling("http://other.example/LiveApp/rest/%2e%2e/x", .refused, raw: true),
            Spelling("http://user@127.0.0.1:\(port)/LiveApp/rest;x/v2/broadcasts/create", .refused, raw: true),
            // Targets that are not a path at all.
            Spelling("*", .refused, method: "OPTIONS", raw: true),
        ]
    }

    func send(_ stack: NginxStack, _ s: Spelling, headers: [String]) throws -> CurlResponse {
        if s.raw {
            return try stack.request("/", method: s.method, headers: headers, options: ["--request-target", s.target])
        }
        return try stack.request(s.target, method: s.method, headers: headers, options: ["--path-as-is"])
    }

    /// Run with authzd.conf, with authzd-cached.conf (a cached allow must not widen anything),
    /// and in front of a Tomcat that decodes %2f and %5c (the edge must not count on Tomcat's
    /// defaults refusing them).
    @Test(arguments: zip([false, true, false], [false, false, true]))
    func noSpellingOfAPathReachesTheServletWithoutAuthzdsYes(decisionCache: Bool, lenientTomcat: Bool) throws {
        let stack = try Self.stack(decisionCache: decisionCache, lenientTomcat: lenientTomcat)
        let token = try mintToken(secret: Self.liveSecret, claims: ["sub=alice"], expiresIn: 300)
        for s in Self.spellings(port: stack.nginx.port) {
            let anonymous = try send(stack, s, headers: Self.forged)
            let withToken = try send(stack, s, headers: Self.forged + ["Authorization: Bearer \(token)"])
            // The one property every spelling must have.
            #expect(TomcatUpstream.Seen(body: anonymous.body) == nil, "\(s) reached the servlet without a token: \(anonymous.body)")
            switch s.outcome {
            case .refused:
                for r in [anonymous, withToken] {
                    #expect(r.status == 400, "\(s): expected 400, got \(r.status) \(r.body)")
                    #expect(TomcatUpstream.Seen(body: r.body) == nil, "\(s) reached the servlet")
                }
            case .unknownApp:
                for r in [anonymous, withToken] {
                    #expect(r.status == 403, "\(s): expected 403, got \(r.status) \(r.body)")
                    #expect(r.header("X-Authz-Reason") == "unknown_app", "\(s)")
                    #expect(TomcatUpstream.Seen(body: r.body) == nil, "\(s) reached the servlet")
                }
            case .answeredByNginx(let status):
                for r in [anonymous, withToken] {
                    #expect(r.status == status, "\(s): expected \(status), got \(r.status) \(r.body)")
                    #expect(TomcatUpstream.Seen(body: r.body) == nil, "\(s) reached the servlet")
                }
            case .authenticated(let servletPath, let pathInfo):
                #expect(anonymous.status == 401, "\(s): expected 401 without a token, got \(anonymous.status) \(anonymous.body)")
                #expect(anonymous.header("X-Authz-Reason") == "no_token", "\(s)")
                #expect(withToken.status == 200, "\(s): expected 200 with a token, got \(withToken.status) \(withToken.body)\n\(stack.logs)")
                guard let seen = TomcatUpstream.Seen(body: withToken.body) else {
                    Issue.record("\(s): the servlet did not answer: \(withToken.body)")
                    continue
                }
                #expect(seen.method == s.method, "\(s)")
                // The app authzd judged is the context Tomcat ran, and the identity is the token's.
                // (Tomcat reports the context path as the client spelled it: /%4CiveApp is /LiveApp.)
                #expect(seen.contextPath.removingPercentEncoding == "/LiveApp", "\(s): Tomcat ran context \(seen.contextPath)")
                #expect(seen.values("X-Authz-App") == ["LiveApp"], "\(s)")
                #expect(seen.servletPath == servletPath, "\(s): servlet path \(seen.servletPath)")
                #expect(seen.pathInfo == pathInfo, "\(s): path info \(seen.pathInfo ?? "nil")")
                #expect(seen.values("X-Auth-Subject") == ["alice"], "\(s): \(seen.headers)")
            }
        }
    }

    /// The paths of the issue, each with a forged identity: refused, never passed.
    @Test func pathParameterAndDotSemicolonBypassesOfTheIssueAreRefused() throws {
        let stack = try Self.stack()
        for (path, method) in [("/LiveApp/rest;x/v2/broadcasts/create", "POST"), ("/LiveApp/x/..;/rest/v2/x", "GET")] {
            let r = try stack.request(path, method: method, headers: ["X-Auth-Subject: admin"], options: ["--path-as-is"])
            #expect(r.status == 400, "\(path): \(r.status) \(r.body)")
            #expect(r.header("Content-Type") == "application/json")
            #expect(r.body == "{\"status\":400,\"reason\":\"bad_request\"}\n")
        }
        // The plain path still asks for a token.
        let plain = try stack.request("/LiveApp/rest/v2/broadcasts/create", method: "POST", headers: ["X-Auth-Subject: admin"])
        #expect(plain.status == 401)
    }

    /// Identity is nginx's to set, on every path: a client's copies of the forwarded-claim and
    /// X-Authz-* headers are replaced or removed, for an app that forwards a subject and for
    /// one that forwards none.
    @Test func clientIdentityHeadersNeverReachTheServlet() throws {
        let stack = try Self.stack()
        let token = try mintToken(secret: Self.liveSecret, claims: ["sub=alice"], expiresIn: 300)
        let cases: [(path: String, headers: [String], subject: [String], app: String)] = [
            ("/LiveApp/rest/v2/broadcasts/create", ["Authorization: \(token)"], ["alice"], "LiveApp"),
            ("/LiveApp/play.html", ["Authorization: \(token)"], ["alice"], "LiveApp"),
            ("/StreamApp/rest/v2/broadcasts/list/0/10", [], [], "StreamApp"),
            ("/StreamApp/index.html", [], [], "StreamApp"),
        ]
        for c in cases {
            let r = try stack.request(c.path, method: "GET", headers: c.headers + Self.forged)
            #expect(r.status == 200, "\(c.path): \(r.status) \(r.body)\n\(stack.logs)")
            guard let seen = TomcatUpstream.Seen(body: r.body) else {
                Issue.record("\(c.path): the servlet did not answer: \(r.body)")
                continue
            }
            #expect(seen.contextPath == "/" + c.app)
            #expect(seen.values("X-Auth-Subject") == c.subject, "\(c.path): \(seen.headers)")
            #expect(seen.values("X-Authz-App") == [c.app], "\(c.path)")
            #expect(seen.values("X-Authz-Reason") == ["ok"], "\(c.path)")
            #expect(seen.values("X-Original-URI") == [], "\(c.path)")
            #expect(seen.values("X-Original-Method") == [], "\(c.path)")
            #expect(seen.values("X-Real-IP") == ["127.0.0.1"], "\(c.path)")
            #expect(seen.values("X-Forwarded-For") == ["127.0.0.1"], "\(c.path)")
        }
    }

    /// REST clients get a small JSON body with every refusal, and a 401 keeps its challenge.
    @Test func denialsAreSmallJSONBodiesAndA401KeepsItsChallenge() throws {
        let stack = try Self.stack()
        let create = "/LiveApp/rest/v2/broadcasts/create"
        let expired = try mintToken(secret: Self.liveSecret, claims: ["sub=alice"], expiresIn: -60)
        let token = try mintToken(secret: Self.liveSecret, claims: ["sub=alice"], expiresIn: 300)

        let none = try stack.request(create, method: "POST")
        #expect(none.status == 401)
        #expect(none.body == "{\"status\":401,\"reason\":\"no_token\"}\n")
        #expect(none.header("Content-Type") == "application/json")
        #expect(none.header("WWW-Authenticate")?.hasPrefix("Bearer") == true, "\(none.headers)")
        #expect(none.headers.filter { $0.name.lowercased() == "www-authenticate" }.count == 1)
        #expect(none.header("X-Authz-Reason") == "no_token")

        let late = try stack.request(create, method: "POST", headers: ["Authorization: \(expired)"])
        #expect(late.status == 401)
        #expect(late.body == "{\"status\":401,\"reason\":\"token_expired\"}\n")
        #expect(late.header("WWW-Authenticate")?.contains("invalid_token") == true, "\(late.headers)")

        let elsewhere = try stack.request(create, method: "POST", headers: ["Authorization: \(token)"], from: "127.0.0.2")
        #expect(elsewhere.status == 403)
        #expect(elsewhere.body == "{\"status\":403,\"reason\":\"ip_not_allowed\"}\n")
        #expect(elsewhere.header("Content-Type") == "application/json")

        let noApp = try stack.request("/")
        #expect(noApp.status == 403)
        #expect(noApp.body == "{\"status\":403,\"reason\":\"unknown_app\"}\n")

        try stack.stopDaemon()
        let down = try stack.request(create, method: "POST", headers: ["Authorization: \(token)"])
        #expect(down.status == 500)
        #expect(down.body == "{\"status\":500,\"reason\":\"upstream_unavailable\"}\n")
        #expect(down.header("Content-Type") == "application/json")

        // With the shim gone too, nginx cannot ask at all: still a refusal, still JSON.
        stack.shimProcess.signal(SIGTERM)
        #expect(stack.shimProcess.waitForExit() != nil)
        let noShim = try stack.request(create, method: "POST", headers: ["Authorization: \(token)"])
        #expect(noShim.status == 500)
        #expect(noShim.body == "{\"status\":500,\"reason\":\"no_decision\"}\n")
        #expect(TomcatUpstream.Seen(body: noShim.body) == nil)
    }

    /// The shim's socket is what the unit asks for: group www-data, mode 0660, so nginx's
    /// workers can ask and other local users cannot; nginx reaches it through the shipped
    /// `server unix:` line (only the path changed).
    @Test func shimListensOnAUnixSocketOnlyWwwDataMayUse() throws {
        let stack = try Self.stack()
        let path = stack.dir.file("shim.sock")
        var info = stat()
        #expect(lstat(path, &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFSOCK)
        #expect(info.st_mode & 0o777 == 0o660, "mode \(String(info.st_mode & 0o777, radix: 8))")
        let group = getgrnam("www-data")
        #expect(group != nil && info.st_gid == group!.pointee.gr_gid)
        let token = try mintToken(secret: Self.liveSecret, claims: ["sub=alice"], expiresIn: 300)
        let r = try stack.request("/LiveApp/rest/v2/broadcasts/create", method: "POST", headers: ["Authorization: \(token)"])
        #expect(r.status == 200, "\(stack.logs)")
    }

    /// example-site.conf's example of a named exemption, uncommented: that exact path passes
    /// without a token, with any identity the client sent removed; its neighbours, and spellings
    /// of it that a servlet container would read differently, are still checked or refused.
    @Test func namedExemptionPassesOnlyItsExactPathAndStillClearsIdentity() throws {
        let stack = try Self.stack(exemptPlayerPage: true)
        let open = try stack.request("/LiveApp/play.html", headers: Self.forged)
        #expect(open.status == 200, "\(open.body)\n\(stack.logs)")
        if let seen = TomcatUpstream.Seen(body: open.body) {
            #expect(seen.contextPath == "/LiveApp")
            #expect(seen.servletPath == "/play.html")
            for name in ["X-Auth-Subject", "X-Authz-Reason", "X-Original-URI", "X-Original-Method"] {
                #expect(seen.values(name) == [], "\(name): \(seen.headers)")
            }
            #expect(seen.values("X-Authz-App") == ["LiveApp"])
            #expect(seen.values("X-Real-IP") == ["127.0.0.1"])
            #expect(seen.values("X-Forwarded-For") == ["127.0.0.1"])
        } else {
            Issue.record("the exempt page did not reach the servlet: \(open.body)")
        }
        for path in ["/LiveApp/play.html;/../rest/v2/broadcasts/create", "/LiveApp/play.html/..;/rest/v2/broadcasts/create",
                     "/LiveApp/play.html/../rest/v2/broadcasts/create", "/LiveApp/play.html%2f..%2frest/v2/broadcasts/create"] {
            let r = try stack.request(path, method: "POST", headers: Self.forged, options: ["--path-as-is"])
            #expect(r.status == 400, "\(path): \(r.status) \(r.body)")
        }
        for path in ["/LiveApp/play.htmlx", "/LiveApp/play.html/x", "/LiveApp/rest/v2/broadcasts/create"] {
            let r = try stack.request(path, method: "POST", headers: Self.forged, options: ["--path-as-is"])
            #expect(r.status == 401, "\(path): \(r.status) \(r.body)")
        }
    }
}
