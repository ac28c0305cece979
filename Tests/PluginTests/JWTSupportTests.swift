import AuthzCore
import AuthzJSON
import JWTSupport
import Testing

@Suite struct VerifiedTokenCacheTests {
    private let claims = JSONObject([("sub", "a")])

    @Test func aVerifiedTokenIsFoundUnderItsGenerationOnly() {
        let cache = VerifiedTokenCache(capacity: 10)
        cache.insert("t1", claims: claims, generation: 3)
        #expect(cache.claims(for: "t1", generation: 3) == claims)
        #expect(cache.claims(for: "t1", generation: 4) == nil)
        #expect(cache.claims(for: "t2", generation: 3) == nil)
    }

    @Test func capacityZeroTurnsTheCacheOff() {
        let cache = VerifiedTokenCache(capacity: 0)
        cache.insert("t", claims: claims)
        #expect(cache.claims(for: "t") == nil)
        #expect(cache.count == 0)
    }

    @Test func theCacheStaysWithinItsBoundAndEvictsTheOldest() {
        let cache = VerifiedTokenCache(capacity: 4)
        for i in 0..<10 { cache.insert("t\(i)", claims: claims) }
        #expect(cache.count == 4)
        #expect(cache.claims(for: "t0") == nil)
        #expect(cache.claims(for: "t9") == claims)
        #expect(cache.claims(for: "t6") == claims)

        let sharded = VerifiedTokenCache(capacity: 256)
        for i in 0..<5000 { sharded.insert("token-\(i)", claims: claims) }
        #expect(sharded.count <= 256)
        #expect(sharded.claims(for: "token-4999") == claims)
    }

    @Test func reinsertingATokenDoesNotUseAnotherSlot() {
        let cache = VerifiedTokenCache(capacity: 2)
        cache.insert("a", claims: claims)
        cache.insert("a", claims: claims, generation: 1)
        cache.insert("b", claims: claims)
        #expect(cache.count == 2)
        #expect(cache.claims(for: "a", generation: 1) == claims)
    }
}

@Suite struct TokenSourceTests {
    @Test func parsesEachForm() {
        #expect(TokenSource("authorization") == .authorization)
        #expect(TokenSource("header:X-Auth-Token") == .header("x-auth-token"))
        #expect(TokenSource("cookie:jwt") == .cookie("jwt"))
        #expect(TokenSource("query:token") == .query("token"))
        #expect(TokenSource("query:a:b") == .query("a:b"))
    }

    @Test(arguments: ["", "Authorization", "header", "header:", "cookie:", "query:", "body:x", ":x", "bearer"])
    func refusesOtherSpellings(_ text: String) {
        #expect(TokenSource(text) == nil)
    }

    @Test func aCustomHeaderMayCarryBearerToo() {
        let r = CheckRequest(app: "a", headers: Headers([("X-Token", "Bearer abc.def.ghi")]))
        #expect(TokenSource.header("x-token").token(in: r) == "abc.def.ghi")
    }

    @Test func emptyValuesAreNoToken() {
        let r = CheckRequest(app: "a", path: "/p?token=", headers: Headers([("Authorization", "   "), ("Cookie", "jwt=")]))
        #expect(TokenSource.authorization.token(in: r) == nil)
        #expect(TokenSource.query("token").token(in: r) == nil)
        #expect(TokenSource.cookie("jwt").token(in: r) == nil)
    }
}
