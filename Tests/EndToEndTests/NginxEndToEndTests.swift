import Foundation
import Testing

/// SPEC §5 end to end: real curl → real nginx running the repository's deploy/nginx snippets →
/// real authzd-nginx → real authzd, with a stub of Ant Media's REST API behind nginx that echoes
/// what reached it. The requests are the ones of Ant Media's JWT guide.
@Suite("nginx end to end")
struct NginxEndToEndTests {
    /// Ant Media's example secret (its JWT filter guide) for LiveApp; WebRTCAppEE has its own.
    static let liveSecret = "zautXStXM9iW3aD3FuyPH0TdK4GHPmHq"
    static let webrtcSecret = "4mT9qFv2LxW8cNzR7bKjH3sYpD6gE1aU"

    /// Ant Media with the JWT filter on (the IP filter, then the token), the subject forwarded.
    static func jwtApp(secret: String) -> String {
        """
        [[chain]]
        plugin = "ip_allowlist"
        control = "required"
        allow = ["127.0.0.1"]

        [[chain]]
        plugin = "jwt_hmac"
        control = "required"
        secret = "\(secret)"
        forward_claims = { sub = "x-auth-subject" }
        """
    }

    static let apps: [String: String] = [
        "LiveApp": jwtApp(secret: liveSecret),
        "WebRTCAppEE": jwtApp(secret: webrtcSecret),
        // Ant Media's default: the IP filter alone, no identity.
        "StreamApp": """
            [[chain]]
            plugin = "ip_allowlist"
            control = "required"
            allow = ["127.0.0.1"]
            """,
    ]

    static let create = "/LiveApp/rest/v2/broadcasts/create"

    @Test func jwtGuideCallPassesWithTokenRawOrBearer() throws {
        let stack = try NginxStack(apps: Self.apps)
        let token = try mintToken(secret: Self.liveSecret, claims: ["sub=alice"], expiresIn: 300)
        // curl -X POST -H "Authorization: {JWT}" "http://HOST/LiveApp/rest/v2/broadcasts/create"
        let broadcast = #"{"name":"stream1"}"#
        for value in [token, "Bearer \(token)"] {
            let r = try stack.request(Self.create, method: "POST",
                                      headers: ["Authorization: \(value)", "Content-Type: application/json"],
                                      options: ["--data", broadcast])
            #expect(r.status == 200, "\(stack.logs)")
            #expect(r.header("X-Authz-Reason") == "ok")
            let seen = try EchoUpstream.Seen(body: r.body)
            #expect(seen.method == "POST")
            #expect(seen.path == Self.create)
            // The check never takes the body; the upstream still gets all of it.
            #expect(seen.bodyLength == broadcast.utf8.count)
            // Ant Media's own JWT filter may check the token again: it must arrive unchanged.
            #expect(seen.values("Authorization") == [value])
        }
    }

    @Test func missingOrBadTokenGets401WithChallenge() throws {
        let stack = try NginxStack(apps: Self.apps)
        let none = try stack.request(Self.create, method: "POST")
        #expect(none.status == 401)
        #expect(none.header("WWW-Authenticate")?.hasPrefix("Bearer") == true, "headers: \(none.headers)")
        #expect(none.header("X-Authz-Reason") == "no_token")
        #expect(!none.body.contains("\"path\""), "a refused request must not reach the upstream")

        let expired = try mintToken(secret: Self.liveSecret, claims: ["sub=alice"], expiresIn: -60)
        let late = try stack.request(Self.create, method: "POST", headers: ["Authorization: \(expired)"])
        #expect(late.status == 401)
        #expect(late.header("X-Authz-Reason") == "token_expired")
        #expect(late.header("WWW-Authenticate") != nil)
    }

    @Test func refusedAddressOrUnknownAppGets403() throws {
        let stack = try NginxStack(apps: Self.apps)
        let token = try mintToken(secret: Self.liveSecret, claims: ["sub=alice"])
        // The same valid call from 127.0.0.2, which LiveApp's allowlist (127.0.0.1) excludes:
        // proves nginx's $remote_addr is what authzd judges.
        let elsewhere = try stack.request(Self.create, method: "POST", headers: ["Authorization: \(token)"], from: "127.0.0.2")
        #expect(elsewhere.status == 403, "\(stack.logs)")
        #expect(elsewhere.header("X-Authz-Reason") == "ip_not_allowed")
        #expect(!elsewhere.body.contains("\"path\""))

        let unknown = try stack.request("/NoSuchApp/rest/v2/broadcasts/list/0/10", headers: ["Authorization: \(token)"])
        #expect(unknown.status == 403)
        #expect(unknown.header("X-Authz-Reason") == "unknown_app")
    }

    @Test func tokenForOneAppIsRefusedByAnother() throws {
        let stack = try NginxStack(apps: Self.apps)
        let live = try mintToken(secret: Self.liveSecret, claims: ["sub=alice"])
        let webrtc = try mintToken(secret: Self.webrtcSecret, claims: ["sub=bob"])
        let path = "/WebRTCAppEE/rest/v2/broadcasts/create"

        let crossed = try stack.request(path, method: "POST", headers: ["Authorization: \(live)"])
        #expect(crossed.status == 401)
        #expect(crossed.header("X-Authz-Reason") == "bad_signature")

        let own = try stack.request(path, method: "POST", headers: ["Authorization: Bearer \(webrtc)"])
        #expect(own.status == 200)
        #expect(try EchoUpstream.Seen(body: own.body).values("X-Auth-Subject") == ["bob"])

        let back = try stack.request(Self.create, method: "POST", headers: ["Authorization: \(webrtc)"])
        #expect(back.status == 401)
    }

    @Test func subjectReachesUpstreamAndClientCannotForgeIt() throws {
        let stack = try NginxStack(apps: Self.apps)
        let token = try mintToken(secret: Self.liveSecret, claims: ["sub=alice"])
        let r = try stack.request(Self.create, method: "POST",
                                  headers: ["Authorization: \(token)", "X-Auth-Subject: mallory"])
        #expect(r.status == 200, "\(stack.logs)")
        // Exactly one value, the token's: the client's header was replaced, not joined.
        #expect(try EchoUpstream.Seen(body: r.body).values("X-Auth-Subject") == ["alice"])

        // An app that forwards no identity: the client's claim is dropped, not passed on.
        let open = try stack.request("/StreamApp/rest/v2/broadcasts/list/0/10", headers: ["X-Auth-Subject: mallory"])
        #expect(open.status == 200)
        #expect(try EchoUpstream.Seen(body: open.body).values("X-Auth-Subject") == [])
    }

    /// The mapping headers are nginx's to set: a client sending them changes nothing, and the
    /// app is the one nginx routes the normalised path to, whatever the raw path says.
    @Test func clientCannotChooseItsAppOrAddress() throws {
        let stack = try NginxStack(apps: Self.apps)
        let token = try mintToken(secret: Self.liveSecret, claims: ["sub=alice"])
        // StreamApp would let 127.0.0.1 in without a token.
        let app = try stack.request(Self.create, method: "POST", headers: ["X-Authz-App: StreamApp"])
        #expect(app.status == 401, "\(stack.logs)")
        #expect(app.header("X-Authz-Reason") == "no_token")

        let address = try stack.request(Self.create, method: "POST",
                                        headers: ["Authorization: \(token)", "X-Real-IP: 127.0.0.1", "X-Forwarded-For: 127.0.0.1"],
                                        from: "127.0.0.2")
        #expect(address.status == 403)
        #expect(address.header("X-Authz-Reason") == "ip_not_allowed")

        // Dot segments are refused outright: nginx and the app behind it might resolve them apart.
        let dotted = try stack.request("/StreamApp/rest/../../LiveApp/rest/v2/broadcasts/create", method: "POST",
                                       options: ["--path-as-is"])
        #expect(dotted.status == 400)
        #expect(!dotted.body.contains("\"path\""))
    }

    @Test func failsClosedWhileAuthzdIsDownAndRecoversWithoutRestarts() throws {
        let stack = try NginxStack(apps: Self.apps)
        let token = try mintToken(secret: Self.liveSecret, claims: ["sub=alice"])
        let call = { try stack.request(Self.create, method: "POST", headers: ["Authorization: \(token)"]) }
        #expect(try call().status == 200)
        let nginxPID = stack.nginx.process.pid, shimPID = stack.shimProcess.pid

        try stack.stopDaemon()
        let down = try call()
        // The shim answers 503; nginx turns any unexpected auth status into 500.
        #expect(down.status == 500, "\(stack.logs)")
        #expect(down.header("X-Authz-Reason") == "upstream_unavailable")
        #expect(!down.body.contains("\"path\""), "nothing may reach the upstream while authzd is down")

        try stack.startDaemon()
        #expect(eventually(timeout: 20) { (try? call().status) == 200 }, "\(stack.logs)")
        #expect(stack.nginx.process.isRunning && stack.nginx.process.pid == nginxPID)
        #expect(stack.shimProcess.isRunning && stack.shimProcess.pid == shimPID)
    }

    /// example-site.conf's optional decision cache: an allow is kept for the ttl authzd gave
    /// (so it outlives an authzd outage), under a key of app, address, method, request target and
    /// Authorization; a denial (no-store) is never kept, and an allow for one route never answers
    /// for another (a chain step may `match` on method and path).
    @Test func decisionCacheKeepsAllowsForTheirTTLButNeverDenials() throws {
        let stack = try NginxStack(apps: Self.apps, decisionCache: true)
        let alice = try mintToken(secret: Self.liveSecret, claims: ["sub=alice"], expiresIn: 300)
        let bob = try mintToken(secret: Self.liveSecret, claims: ["sub=bob"], expiresIn: 300)
        let list = "/LiveApp/rest/v2/broadcasts/list/0/10"
        #expect(try stack.request(list, headers: ["Authorization: \(alice)"]).status == 200, "\(stack.logs)")
        #expect(try stack.request(list).status == 401)

        try stack.stopDaemon()
        // Only the cache can answer now: the allow it kept, with the identity it carried.
        let cached = try stack.request(list, headers: ["Authorization: \(alice)"])
        #expect(cached.status == 200, "\(stack.logs)")
        #expect(try EchoUpstream.Seen(body: cached.body).values("X-Auth-Subject") == ["alice"])
        // Not kept: another route or method with the same token, the 401, a token never seen,
        // and the same token from another address.
        #expect(try stack.request(Self.create, method: "POST", headers: ["Authorization: \(alice)"]).status == 500)
        #expect(try stack.request(list, method: "DELETE", headers: ["Authorization: \(alice)"]).status == 500)
        #expect(try stack.request(list).status == 500)
        #expect(try stack.request(list, headers: ["Authorization: \(bob)"]).status == 500)
        #expect(try stack.request(list, headers: ["Authorization: \(alice)"], from: "127.0.0.2").status == 500)
    }

    @Test func manyConcurrentClientsEachGetTheirOwnAnswer() throws {
        let stack = try NginxStack(apps: Self.apps)
        let forged = try mintToken(secret: Self.webrtcSecret, claims: ["sub=eve"])
        let n = 60
        var tokens: [Int: String] = [:]
        for i in 0..<n where i % 4 == 0 {
            tokens[i] = try mintToken(secret: Self.liveSecret, claims: ["sub=user-\(i)"])
        }
        let requests: [[String]] = (0..<n).map { i in
            let url = stack.nginx.baseURL + Self.create + "?client=\(i)"
            switch i % 4 {
            case 0: return Curl.arguments(url, method: "POST", headers: ["Authorization: Bearer \(tokens[i]!)"])
            case 1: return Curl.arguments(url, method: "POST")
            case 2: return Curl.arguments(url, method: "POST", headers: ["Authorization: \(forged)"])
            default: return Curl.arguments(url, method: "POST", headers: ["Authorization: \(tokens[i - 3]!)"], from: "127.0.0.2")
            }
        }
        let answers = try Curl.parallel(requests)
        for (i, r) in answers.enumerated() {
            switch i % 4 {
            case 0:
                #expect(r.status == 200, "client \(i)")
                let seen = try EchoUpstream.Seen(body: r.body)
                #expect(seen.path == Self.create + "?client=\(i)")
                #expect(seen.values("X-Auth-Subject") == ["user-\(i)"], "client \(i) got another's identity")
            case 1:
                #expect(r.status == 401, "client \(i)")
                #expect(r.header("X-Authz-Reason") == "no_token")
            case 2:
                #expect(r.status == 401, "client \(i)")
                #expect(r.header("X-Authz-Reason") == "bad_signature")
            default:
                #expect(r.status == 403, "client \(i)")
                #expect(r.header("X-Authz-Reason") == "ip_not_allowed")
            }
        }
    }

    /// SPEC §5 leaves `app` to authzd: a subrequest without X-Authz-App becomes a check without
    /// `app`, which authzd refuses as malformed; nginx would turn the 400 into a 500.
    @Test func subrequestWithoutAppHeaderIsRefusedAsBadRequest() throws {
        let stack = try NginxStack(apps: Self.apps)
        let r = try Curl.request("http://127.0.0.1:\(stack.shim!.port)/_authz",
                                 headers: ["X-Real-IP: 127.0.0.1", "X-Original-Method: GET", "X-Original-URI: /"])
        #expect(r.status == 400)
        #expect(r.header("X-Authz-Reason") == "bad_request")
        #expect(r.body.isEmpty)
    }

    /// As deployed: nginx's workers run as www-data and reach the shim's Unix socket (mode 0660)
    /// through its group www-data. The same socket without that group refuses them, and then
    /// nothing passes: the group, not the path, is what lets nginx ask.
    @Test func nginxWorkersReachTheShimSocketOnlyThroughItsGroup() throws {
        guard let wwwData = getpwnam("www-data")?.pointee.pw_uid else {
            Issue.record("no www-data user on this system")
            return
        }
        let token = try mintToken(secret: Self.liveSecret, claims: ["sub=alice"])
        let stack = try NginxStack(apps: Self.apps, shimOnUnixSocket: true, nginxWorkerUser: "www-data")
        #expect(!stack.nginx.workerUIDs.isEmpty && stack.nginx.workerUIDs.allSatisfy { $0 == wwwData },
                "workers: \(stack.nginx.workerUIDs)")
        let r = try stack.request(Self.create, method: "POST", headers: ["Authorization: \(token)"])
        #expect(r.status == 200, "\(stack.logs)")
        #expect(try EchoUpstream.Seen(body: r.body).values("X-Auth-Subject") == ["alice"])

        let closed = try NginxStack(apps: Self.apps, shimOnUnixSocket: true, shimListenGroup: nil, nginxWorkerUser: "www-data")
        let refused = try closed.request(Self.create, method: "POST", headers: ["Authorization: \(token)"])
        #expect(refused.status == 500)
        #expect(refused.body == "{\"status\":500,\"reason\":\"no_decision\"}\n")
        #expect(closed.nginx.errorLog.contains("Permission denied"), "\(closed.nginx.errorLog)")
    }
}
