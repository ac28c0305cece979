import AuthzCore
import AuthzText
import Testing

private func matches(_ pattern: String, _ target: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Bool {
    let p = try PathPattern(pattern)
    return p.matches(try RequestPath(normalizing: target))
}

@Suite struct PathPatternTests {
    @Test func literalSegmentsMatchExactly() throws {
        #expect(try matches("/LiveApp/rest/v2/broadcasts/list", "/LiveApp/rest/v2/broadcasts/list"))
        #expect(try !matches("/LiveApp/rest/v2/broadcasts/list", "/LiveApp/rest/v2/broadcasts/lis"))
        #expect(try !matches("/LiveApp/rest/v2/broadcasts/list", "/LiveApp/rest/v2/broadcasts/list/x"))
        #expect(try !matches("/LiveApp/rest/v2/broadcasts/list", "/liveapp/rest/v2/broadcasts/list"))
        #expect(try matches("/", "/"))
        #expect(try !matches("/", "/a"))
    }

    @Test func oneStarIsExactlyOneSegment() throws {
        #expect(try matches("/LiveApp/rest/v2/broadcasts/*", "/LiveApp/rest/v2/broadcasts/create"))
        #expect(try !matches("/LiveApp/rest/v2/broadcasts/*", "/LiveApp/rest/v2/broadcasts"))
        #expect(try !matches("/LiveApp/rest/v2/broadcasts/*", "/LiveApp/rest/v2/broadcasts/"))
        #expect(try !matches("/LiveApp/rest/v2/broadcasts/*", "/LiveApp/rest/v2/broadcasts/a/b"))
        #expect(try matches("/*/rest/v2/broadcasts/create", "/StreamApp/rest/v2/broadcasts/create"))
        #expect(try matches("/*/*", "/a/b"))
    }

    @Test func doubleStarIsAnyNumberOfSegmentsNoneIncluded() throws {
        let p = "/LiveApp/rest/v2/broadcasts/**"
        #expect(try matches(p, "/LiveApp/rest/v2/broadcasts"))
        #expect(try matches(p, "/LiveApp/rest/v2/broadcasts/"))
        #expect(try matches(p, "/LiveApp/rest/v2/broadcasts/create"))
        #expect(try matches(p, "/LiveApp/rest/v2/broadcasts/stream1/rtmp-endpoint"))
        #expect(try !matches(p, "/LiveApp/rest/v2/vods/list"))
        #expect(try !matches(p, "/LiveApp/rest/v2/broadcastsx"))
        #expect(try matches("/**", "/"))
        #expect(try matches("/**", "/a/b/c"))
        #expect(try matches("/**/create", "/create"))
        #expect(try matches("/**/create", "/LiveApp/rest/v2/broadcasts/create"))
        #expect(try !matches("/**/create", "/LiveApp/rest/v2/broadcasts/create/x"))
        #expect(try matches("/LiveApp/**/broadcasts/*", "/LiveApp/rest/v2/broadcasts/create"))
        #expect(try matches("/LiveApp/**/broadcasts/*", "/LiveApp/broadcasts/x"))
        #expect(try !matches("/LiveApp/**/broadcasts/*", "/LiveApp/rest/broadcasts"))
        // A later mismatch makes the ** take more segments.
        #expect(try matches("/a/**/b/c", "/a/b/x/b/c"))
        #expect(try matches("/**/a/**/a", "/a/a/a/x/a"))
        #expect(try !matches("/**/a/**/b", "/a/a/a/x/a"))
    }

    @Test func patternsAreComparedWithTheNormalisedPath() throws {
        let p = "/LiveApp/rest/v2/broadcasts/**"
        for spelling in ["/LiveApp/rest;jsessionid=1/v2/broadcasts/create", "/LiveApp//rest/v2/broadcasts/create",
                         "/LiveApp/x/..;/rest/v2/broadcasts/create", "/LiveApp/%72est/v2/broadcasts/create",
                         "/StreamApp/rest/%2e%2e/%2e%2e/LiveApp/rest/v2/broadcasts/create", "/LiveApp/./rest/v2/broadcasts/x?y=/z"] {
            #expect(try matches(p, spelling), "\(spelling)")
        }
        // A literal with escapes is normalised too.
        #expect(try matches("/LiveApp/%7Euser", "/LiveApp/~user"))
        #expect(try matches("/LiveApp/caf%c3%a9", "/LiveApp/caf%C3%A9"))
        // Any character and its escape are one to a rule, as they are to Tomcat.
        #expect(try matches("/LiveApp/rest/v2/broadcasts/(x)", "/LiveApp/rest/v2/broadcasts/%28x%29"))
        #expect(try matches("/LiveApp/rest/v2/broadcasts/%28x%29", "/LiveApp/rest/v2/broadcasts/(x)"))
        #expect(try matches("/LiveApp/café", "/LiveApp/caf%C3%A9"))
        #expect(try matches("/LiveApp/a:b@c", "/LiveApp/a%3Ab%40c"))
        #expect(try matches("/LiveApp/rest%3Bx", "/LiveApp/rest%3bx"))
        #expect(try !matches("/LiveApp/rest%3Bx", "/LiveApp/rest;x"))
    }

    @Test(arguments: [
        ("LiveApp/rest", "must start with '/'"),
        ("", "must start with '/'"),
        ("/LiveApp//rest", "empty segment"),
        ("/LiveApp/rest/", "empty segment"),
        ("/LiveApp/rest*", "whole segment"),
        ("/LiveApp/***", "whole segment"),
        ("/LiveApp/a*b/c", "whole segment"),
        ("/LiveApp/../x", "'.' or '..'"),
        ("/LiveApp/./x", "'.' or '..'"),
        ("/LiveApp/%2e%2e/x", "'.' or '..'"),
        ("/LiveApp/rest;x", "';'"),
        ("/LiveApp/rest?x", "'?'"),
        ("/LiveApp/a%2fb", "encoded '/'"),
        ("/LiveApp/a%zz", "'%'"),
        ("/LiveApp/a\\b", "'\\'"),
        ("/LiveApp/a\u{1}b", "control"),
    ])
    func invalidPatternsAreRefusedWithAReason(_ pattern: String, _ reason: String) {
        do {
            _ = try PathPattern(pattern)
            Issue.record("\(pattern) compiled")
        } catch {
            #expect(error.message.contains(reason), "\(pattern): \(error.message)")
        }
    }
}
