import AuthzJSON
import Foundation
import Testing

/// SPEC §8's scopes and per-route steps through the real daemon and `authzd query`: Ant Media's
/// REST API, read calls with `broadcast:read`, writes under /LiveApp/rest/v2/broadcasts/** with
/// `broadcast:write`, everything else refused because no step runs for it.
@Suite("scopes and per-route steps end to end")
struct ScopesEndToEndTests {
    static let secret = "zautXStXM9iW3aD3FuyPH0TdK4GHPmHq"

    static let apps: [String: String] = [
        "LiveApp": """
            [[chain]]
            plugin = "jwt_hmac"
            secret = "\(secret)"
            required_scopes = ["broadcast:read"]
            match = { methods = ["GET", "HEAD"], paths = ["/LiveApp/rest/**"] }

            [[chain]]
            plugin = "jwt_hmac"
            secret = "\(secret)"
            required_scopes = ["broadcast:write"]
            forward_claims = { sub = "x-auth-subject" }
            match = { methods = ["POST", "DELETE"], paths = ["/LiveApp/rest/v2/broadcasts/**"] }
            """,
    ]

    /// `authzd query` against the daemon: the answer and the exit status.
    func query(_ d: DaemonUnderTest, method: String, path: String, token: String?) throws -> (answer: JSONValue, status: Int32) {
        var args = ["query", "--socket", d.socketPath, "--app", "LiveApp", "--ip", "127.0.0.1", "--method", method, "--path", path]
        if let token { args += ["--token", token] }
        let r = try runCommand(try TestEnvironment.binary("authzd"), args)
        return (try JSONParser.parse(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), r.status)
    }

    @Test func readAndWriteScopesGuardTheirRoutes() throws {
        let d = try DaemonUnderTest(apps: Self.apps)
        let reader = try mintToken(secret: Self.secret, claims: ["sub=alice", "scope=broadcast:read"], expiresIn: 300)
        let writer = try mintToken(secret: Self.secret, claims: ["sub=bob", "scope=broadcast:write"], expiresIn: 300)

        let list = try query(d, method: "GET", path: "/LiveApp/rest/v2/broadcasts/list/0/10", token: reader)
        #expect(list.status == 0)
        #expect(list.answer["allow"] == .bool(true))
        #expect(list.answer["plugin"] == "jwt_hmac")

        let create = try query(d, method: "POST", path: "/LiveApp/rest/v2/broadcasts/create", token: reader)
        #expect(create.status == 1)
        #expect(create.answer["allow"] == .bool(false))
        #expect(create.answer["status"] == 403)
        #expect(create.answer["reason"] == "insufficient_scope")
        #expect(create.answer["headers"]?["www-authenticate"]
                == #"Bearer realm="LiveApp", error="insufficient_scope", scope="broadcast:write""#)

        let written = try query(d, method: "POST", path: "/LiveApp/rest/v2/broadcasts/create", token: writer)
        #expect(written.status == 0)
        #expect(written.answer["allow"] == .bool(true))
        #expect(written.answer["headers"]?["x-auth-subject"] == "bob")

        // The writer may not read: the GET step wants broadcast:read.
        #expect(try query(d, method: "get", path: "/LiveApp/rest/v2/broadcasts/list/0/10", token: writer).answer["reason"] == "insufficient_scope")
        // Without a token, the matching step asks for one.
        #expect(try query(d, method: "DELETE", path: "/LiveApp/rest/v2/broadcasts/stream1", token: nil).answer["reason"] == "no_token")
    }

    @Test func spellingsOfAWriteAreJudgedAsTheWriteTheyAre() throws {
        let d = try DaemonUnderTest(apps: Self.apps)
        let reader = try mintToken(secret: Self.secret, claims: ["scope=broadcast:read"], expiresIn: 300)
        for path in ["/LiveApp/rest;jsessionid=1/v2/broadcasts/create", "/LiveApp/x/..;/rest/v2/broadcasts/create",
                     "/LiveApp//rest/v2/broadcasts/create", "/LiveApp/rest/v2/%62roadcasts/create?x=1",
                     "/StreamApp/../LiveApp/rest/v2/broadcasts/create"] {
            let r = try query(d, method: "POST", path: path, token: reader)
            #expect(r.answer["reason"] == "insufficient_scope", "\(path): \(r.answer)")
        }
    }

    @Test func aPathThatCannotBeNormalisedIsABadRequest() throws {
        let d = try DaemonUnderTest(apps: Self.apps)
        let writer = try mintToken(secret: Self.secret, claims: ["scope=broadcast:write"], expiresIn: 300)
        for path in ["/LiveApp/../../LiveApp/rest/v2/broadcasts/create", "/LiveApp/rest%2fv2/broadcasts/create",
                     "/LiveApp/rest/v2/broadcasts/create%00"] {
            let r = try query(d, method: "POST", path: path, token: writer)
            #expect(r.status == 1)
            #expect(r.answer["status"] == 400, "\(path)")
            #expect(r.answer["reason"] == "bad_request")
            #expect(r.answer["plugin"] == nil)
            #expect(r.answer["message"]?.stringValue?.hasPrefix("path cannot be normalised: ") == true, "\(r.answer)")
        }
    }

    @Test func aRequestNoStepMatchesIsDeniedByDefault() throws {
        let d = try DaemonUnderTest(apps: Self.apps)
        let both = try mintToken(secret: Self.secret, claims: ["scope=broadcast:read broadcast:write"], expiresIn: 300)
        for (method, path) in [("PUT", "/LiveApp/rest/v2/broadcasts/stream1"), ("POST", "/LiveApp/rest/v2/vods/import"),
                               ("GET", "/LiveApp/play.html")] {
            let r = try query(d, method: method, path: path, token: both)
            #expect(r.status == 1, "\(method) \(path)")
            #expect(r.answer["reason"] == "no_decision", "\(method) \(path): \(r.answer)")
        }
    }

    @Test func checkConfigNamesTheLineOfABadRule() throws {
        let dir = try TempDirectory("authzd-scopes")
        let main = try dir.write("authzd.toml", "[server]\napps_dir = \"apps.d\"\n")
        try FileManager.default.createDirectory(atPath: dir.file("apps.d"), withIntermediateDirectories: true)
        let app = try dir.write("apps.d/LiveApp.toml", """
            [[chain]]
            plugin = "jwt_hmac"
            secret = "\(Self.secret)"
            required_scopes = ["broadcast write"]
            match = { paths = ["/LiveApp/rest/v2/broadcasts/**x"] }
            """)
        let r = try runCommand(try TestEnvironment.binary("authzd"), ["check-config", "--config", main])
        #expect(r.status == 1)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("\(app):4: required_scopes entry \"broadcast write\" is not a scope") }, "\(r.stderr)")
        #expect(lines.contains { $0.hasPrefix("\(app):5: match.paths entry \"/LiveApp/rest/v2/broadcasts/**x\"") }, "\(r.stderr)")
    }
}
