import AuthzCore
import AuthzJSON

/// What the authorization server said about one token, reduced to what a decision needs.
enum IntrospectionAnswer: Sendable {
    /// `active: true`, with the whole answer, which the step treats as the token's claims.
    case active(JSONObject)
    /// `active: false`: revoked, expired, unknown or never valid.
    case inactive
    /// No usable answer (transport failure, timeout, a status other than 200, a body that is not
    /// an RFC 7662 answer); the step fails closed. The text is for people and holds no token.
    case unavailable(String)

    /// Reads an HTTP exchange. Only 200 with a JSON object holding a boolean `active` counts as
    /// an answer: RFC 7662 makes `active` required, and guessing either way would be wrong.
    init(_ result: Result<HTTPFetchResponse, HTTPFetchError>) {
        let response: HTTPFetchResponse
        switch result {
        case .failure(let e):
            self = .unavailable("introspection call failed: \(e.message)")
            return
        case .success(let r):
            response = r
        }
        guard response.status == 200 else {
            self = .unavailable("introspection endpoint answered HTTP \(response.status)")
            return
        }
        // A member named twice (two `active`s, two `exp`s) is an answer that readers take
        // differently (this one keeps the first, most keep the last): refuse it, as for JWTs.
        guard let value = try? JSONParser.parse(response.body, options: .init(rejectDuplicateKeys: true)),
              case .object(let object) = value else {
            self = .unavailable("introspection answer is not a JSON object (or names a member twice)")
            return
        }
        switch object["active"] {
        case .bool(true): self = .active(object)
        case .bool(false): self = .inactive
        default: self = .unavailable("introspection answer has no boolean \"active\"")
        }
    }
}
