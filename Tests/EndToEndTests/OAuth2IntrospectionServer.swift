import AuthzJSON
import Foundation
import Testing

/// A real OAuth 2.0 authorization server for the introspection tests: django-oauth-toolkit,
/// run by `Tests/support/oauth_server/server.py` on a free port of 127.0.0.1 with its sqlite
/// database and OIDC key in a temporary directory, both removed on deinit (a migrated template
/// database is kept in `.build/oauth-test-server`, so that each start need not migrate).
///
/// Two confidential client-credentials applications exist: `api` (gets the tokens a client
/// would send) and `authzd` (what authzd authenticates with to introspect). The server is also
/// an OpenID provider: `issuer` is what its discovery document names, `jwksURL` its key set,
/// and `mintJWT` signs a token with its key, for a `jwks` step (or `oidc_issuer`) to verify.
final class OAuthTestServer: @unchecked Sendable {
    static let apiClient = "api"
    static let introspectionClient = "authzd"
    let apiSecret: String
    let introspectionSecret: String
    let port: Int
    private let dir: TempDirectory
    private let process: ChildProcess

    static var script: String {
        TestEnvironment.packageRoot.appendingPathComponent("Tests/support/oauth_server/server.py").path
    }

    init() throws {
        dir = try TempDirectory("oauth")
        apiSecret = "api-" + UUID().uuidString
        // Characters that RFC 6749 §2.3.1's form-encoding must carry through Basic auth.
        introspectionSecret = "in:tro+spect %/" + UUID().uuidString
        let data = dir.file("data")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let process = try ChildProcess("/usr/bin/env", [
            "python3", Self.script, data,
            "--client", Self.apiClient, apiSecret,
            "--client", Self.introspectionClient, introspectionSecret,
            "--template-dir", TestEnvironment.packageRoot.appendingPathComponent(".build/oauth-test-server").path,
        ], logPath: dir.file("server.log"))
        self.process = process
        var found: Int?
        // Migrating the database takes a few seconds on a busy machine.
        _ = eventually(timeout: 120) {
            if let line = process.log.split(separator: "\n").first(where: { $0.hasPrefix("PORT ") }) {
                found = Int(line.dropFirst(5))
            }
            return found != nil || !process.isRunning
        }
        guard let found else {
            let log = process.log
            let hint = log.contains("No module named") ? " (django-oauth-toolkit is missing: `make deps` installs it)" : ""
            Issue.record("the OAuth test server did not start\(hint); it said:\n\(log)")
            throw TestFailure("OAuth test server did not start\(hint)")
        }
        port = found
    }

    var base: String { "http://127.0.0.1:\(port)" }
    /// The OpenID Connect issuer, exactly as the discovery document names it.
    var issuer: String { "\(base)/o" }
    var introspectionURL: String { "\(base)/o/introspect/" }
    var jwksURL: String { "\(base)/o/.well-known/jwks.json" }

    /// A client-credentials access token (opaque) for the `api` client.
    func token(scope: String = "broadcast:read broadcast:write") throws -> String {
        let r = try post("/o/token/", ["grant_type": "client_credentials", "scope": scope],
                         user: (Self.apiClient, apiSecret))
        guard r.status == 200, let json = try? JSONParser.parse(r.body), let token = json["access_token"]?.stringValue else {
            throw TestFailure("no token from the OAuth server: \(r.status) \(r.body)")
        }
        return token
    }

    /// RFC 7009 revocation, as the `api` client.
    func revoke(_ token: String) throws {
        let r = try post("/o/revoke_token/", ["token": token, "token_type_hint": "access_token"],
                         user: (Self.apiClient, apiSecret))
        guard r.status == 200 else { throw TestFailure("revocation failed: \(r.status) \(r.body)") }
    }

    /// Moves the token's expiry to `seconds` from now (negative: in the past), in the database.
    func expire(_ token: String, inSeconds seconds: Int = -60) throws {
        let r = try post("/test/expire/", ["token": token, "seconds": String(seconds)])
        guard r.status == 204 else { throw TestFailure("could not change the token's expiry: \(r.status)") }
    }

    /// Every later OAuth request waits this long before it is handled.
    func setDelay(seconds: Double) throws {
        let r = try post("/test/delay/", ["seconds": String(seconds)])
        guard r.status == 204 else { throw TestFailure("could not slow the server down: \(r.status)") }
    }

    /// How many introspection calls the server has received.
    func introspectionCount() throws -> Int {
        let r = try Curl.request("\(base)/test/introspections/")
        guard r.status == 200, let n = (try? JSONParser.parse(r.body))?["count"]?.numberValue?.int64 else {
            throw TestFailure("no introspection count from the OAuth server: \(r.status) \(r.body)")
        }
        return Int(n)
    }

    /// A JWT signed with the server's OIDC key (RS256, its JWKS kid); `iss` defaults to `issuer`,
    /// `iat` to now and `exp` to an hour from now.
    func mintJWT(_ claims: [String: JSONValue]) throws -> String {
        let body = JSONValue.object(JSONObject(claims.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) })).jsonString
        let r = try Curl.request("\(base)/test/jwt/", method: "POST", headers: ["Content-Type: application/json"],
                                 options: ["--data-binary", body])
        guard r.status == 200, let token = (try? JSONParser.parse(r.body))?["token"]?.stringValue else {
            throw TestFailure("no JWT from the OAuth server: \(r.status) \(r.body)")
        }
        return token
    }

    /// Stops the server (SIGTERM, then SIGKILL if it lingers).
    func stop() {
        guard process.isRunning else { return }
        process.signal(SIGTERM)
        if process.waitForExit(timeout: 10) == nil { process.signal(SIGKILL) }
        _ = process.waitForExit(timeout: 10)
    }

    var log: String { process.log }

    private func post(_ path: String, _ form: [String: String], user: (String, String)? = nil) throws -> CurlResponse {
        var options: [String] = []
        for (k, v) in form.sorted(by: { $0.key < $1.key }) { options += ["--data-urlencode", "\(k)=\(v)"] }
        if let user { options += ["--user", "\(user.0):\(user.1)"] }
        return try Curl.request("\(base)\(path)", method: "POST", options: options)
    }

    deinit {
        stop()
    }
}
