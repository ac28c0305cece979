import AuthzCore
import AuthzJSON
import JOSE
@testable import JWTSupport
@testable import OAuth2IntrospectionPlugin

/// The RFC 7662 answer of `oauth2_introspection`, whatever bytes the endpoint (or whoever sits
/// in its place) sends: the first input byte picks the HTTP status (mostly 200), the rest is the
/// body. The answer must be a clear failure (fail closed: `introspection_unavailable`) or a
/// well-formed active/inactive one, and only a JSON object whose `active` is the boolean `true`
/// may count as active, and never one that names a member twice. An active answer's claims then go through the step's decision with
/// claim checks on and off: an allow needs every check to hold, with a TTL inside [0, maxTTL]
/// bounded by `exp`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIntrospectionAnswer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let statuses = [200, 200, 200, 200, 200, 200, 200, 200, 201, 204, 301, 400, 401, 500, 503, 0]
    let status = input.first.map { statuses[Int($0) % statuses.count] } ?? 200
    let body = Array(input.dropFirst())
    let answer = IntrospectionAnswer(.success(HTTPFetchResponse(status: status, headers: [], body: body)))
    let activeLiteral = Array("true".utf8), inactiveLiteral = Array("false".utf8)

    switch answer {
    case .unavailable(let why):
        // The reason is one of the fixed texts and carries nothing from the body (which may
        // echo the token).
        let fixed = ["introspection endpoint answered HTTP \(status)", "introspection answer is not a JSON object (or names a member twice)",
                     "introspection answer has no boolean \"active\""]
        guard fixed.contains(why) else { fatalError("unavailable with an unexpected reason \(why.debugDescription)") }
        if status == 200, case .object(let o)? = try? JSONParser.parse(body, options: noDuplicates), case .bool? = o["active"] {
            fatalError("a boolean active answer read as unavailable")
        }
    case .inactive:
        guard status == 200 else { fatalError("HTTP \(status) read as an answer") }
        guard case .object(let o)? = try? JSONParser.parse(body, options: noDuplicates), o["active"] == .bool(false) else {
            fatalError("inactive without active: false")
        }
        guard contains(body, inactiveLiteral) else { fatalError("inactive, yet the body holds no false") }
    case .active(let claims):
        guard status == 200 else { fatalError("HTTP \(status) read as an answer") }
        guard claims["active"] == .bool(true) else { fatalError("active without active: true") }
        // Independent of the JSON reader: the literal must be in the bytes.
        guard contains(body, activeLiteral) else { fatalError("active, yet the body holds no true") }
        // Parsed again refusing duplicate members: an answer readers could take two ways is none.
        guard case .object(let reparsed)? = try? JSONParser.parse(body, options: noDuplicates), reparsed == claims else {
            fatalError("the claims are not the body's object, or it names a member twice")
        }
        decide(claims)
    }
    return 0
}

private let now: Int64 = 1_700_000_000
private let noDuplicates = JSONParser.Options(rejectDuplicateKeys: true)

/// The step's decision on an active answer, once permissive and once with every check on.
private func decide(_ claims: JSONObject) {
    let open = JWTOptions(algorithms: [.rs256], policy: ClaimPolicy(), forwardClaims: [("sub", "x-sub")],
                          tokenSources: [.authorization], cacheSize: 0, requiredScopes: [])
    let strict = JWTOptions(algorithms: [.rs256],
                            policy: ClaimPolicy(issuers: ["https://idp.example"], audiences: ["authzd"], leeway: 5,
                                                requireExp: true, requiredClaims: ["sub"]),
                            forwardClaims: [("sub", "x-sub"), ("scope", "x-scope")], tokenSources: [.authorization],
                            cacheSize: 0, requiredScopes: ["broadcast:write"])
    for options in [open, strict] {
        let result = JWTVerdict(realm: "LiveApp", options: options).decide(claims: claims, now: now)
        guard result.allow else {
            guard (400...599).contains(result.status) else { fatalError("a denial with status \(result.status)") }
            continue
        }
        if let ttl = result.ttl, !(0...AppChain.maxTTL).contains(ttl) { fatalError("ttl \(ttl) out of range") }
        if let exp = claims["exp"] {
            guard let e = exp.numberValue?.double, e > Double(now) - 5 else { fatalError("allowed with exp \(exp)") }
        }
        for (name, value) in result.headers where value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            fatalError("header \(name) carries a control character")
        }
        guard options.requiredScopes.isEmpty else {
            guard case .string("https://idp.example")? = claims["iss"], claims["sub"] != nil,
                  claims["exp"]?.numberValue != nil else {
                fatalError("the strict step allowed without iss, sub and exp")
            }
            let scopes = (claims["scope"]?.stringValue?.split(separator: " ").map(String.init) ?? [])
                + (claims["scp"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            guard scopes.contains("broadcast:write") else { fatalError("the strict step allowed without the scope") }
            continue
        }
    }
}

private func contains(_ hay: [UInt8], _ needle: [UInt8]) -> Bool {
    guard hay.count >= needle.count else { return false }
    return (0...(hay.count - needle.count)).contains { hay[$0..<($0 + needle.count)].elementsEqual(needle) }
}
