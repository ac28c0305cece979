import AuthzText
import Testing

/// `RequestPath`: every spelling the nginx edge refuses (deploy/nginx/authzd-maps.conf, and the
/// list in NginxTomcatEndToEndTests) either normalises to the path Tomcat routes it to, or is
/// refused. `RequestPathTomcatEndToEndTests` sends the accepted ones to a real Tomcat.
@Suite struct RequestPathTests {
    /// Target → normalised path. In Tomcat's terms, the normalised path with every escape
    /// decoded is context path + servlet path + path info.
    static let accepted: [(String, String)] = [
        ("/LiveApp/rest/v2/broadcasts/create", "/LiveApp/rest/v2/broadcasts/create"),
        ("/LiveApp/rest/v2/broadcasts/list?offset=0&size=10", "/LiveApp/rest/v2/broadcasts/list"),
        ("/", "/"),
        ("/?x=1", "/"),
        ("/a/b/", "/a/b/"),
        // Path parameters, removed from every segment.
        ("/LiveApp/rest;jsessionid=1/v2/broadcasts/create", "/LiveApp/rest/v2/broadcasts/create"),
        ("/LiveApp/rest;x/v2/broadcasts/create", "/LiveApp/rest/v2/broadcasts/create"),
        ("/LiveApp;x/rest/v2/broadcasts/create", "/LiveApp/rest/v2/broadcasts/create"),
        ("/LiveApp;jsessionid=0123456789ABCDEF/rest/v2/broadcasts/create", "/LiveApp/rest/v2/broadcasts/create"),
        ("/LiveApp/rest/v2/broadcasts/create;jsessionid=0123456789ABCDEF", "/LiveApp/rest/v2/broadcasts/create"),
        ("/LiveApp/rest/v2/broadcasts/create;", "/LiveApp/rest/v2/broadcasts/create"),
        ("/a/;x/b", "/a/b"),
        // "..;" is a dot segment once its parameter is gone.
        ("/LiveApp/x/..;/rest/v2/broadcasts/create", "/LiveApp/rest/v2/broadcasts/create"),
        ("/StreamApp/..;/LiveApp/rest/v2/broadcasts/create", "/LiveApp/rest/v2/broadcasts/create"),
        ("/x/..;/LiveApp/rest/v2/broadcasts/create", "/LiveApp/rest/v2/broadcasts/create"),
        ("/a/..;jsessionid=1/b", "/b"),
        ("/a/.;x/b", "/a/b"),
        // Encoded dots are dots.
        ("/LiveApp/rest/%2e%2e/%2e%2e/StreamApp/rest/v2", "/StreamApp/rest/v2"),
        ("/StreamApp/rest/%2E%2E/%2E%2E/LiveApp/rest/v2/broadcasts/create", "/LiveApp/rest/v2/broadcasts/create"),
        ("/LiveApp/x/.%2e/rest/v2/broadcasts/create", "/LiveApp/rest/v2/broadcasts/create"),
        ("/LiveApp/rest/v2/%2e/broadcasts/create", "/LiveApp/rest/v2/broadcasts/create"),
        // An encoded ";" is a character of the segment, not a parameter (Tomcat strips
        // parameters before decoding); "%25" is a "%" and stays encoded.
        ("/LiveApp/rest%3bx/v2/broadcasts/create", "/LiveApp/rest%3Bx/v2/broadcasts/create"),
        ("/LiveApp/rest/%252e%252e/x", "/LiveApp/rest/%252e%252e/x"),
        // Repeated slashes merge.
        ("//LiveApp/rest/v2/broadcasts/create", "/LiveApp/rest/v2/broadcasts/create"),
        ("/LiveApp//rest/v2/broadcasts/create", "/LiveApp/rest/v2/broadcasts/create"),
        ("/LiveApp/rest//v2/broadcasts/create", "/LiveApp/rest/v2/broadcasts/create"),
        ("/LiveApp/rest/v2/broadcasts//", "/LiveApp/rest/v2/broadcasts/"),
        // Dot segments resolve (RFC 3986 §5.2.4), but a final one leaves no slash (as Tomcat).
        ("/StreamApp/rest/../../LiveApp/rest/v2/broadcasts/create", "/LiveApp/rest/v2/broadcasts/create"),
        ("/LiveApp/./rest/v2/broadcasts/create", "/LiveApp/rest/v2/broadcasts/create"),
        ("/LiveApp/rest/v2/broadcasts/create/..", "/LiveApp/rest/v2/broadcasts"),
        ("/LiveApp/rest/v2/broadcasts/create/.", "/LiveApp/rest/v2/broadcasts/create"),
        ("/LiveApp/a/.;x", "/LiveApp/a"),
        ("/LiveApp/a/;x", "/LiveApp/a/"),
        ("/a/b/../../c", "/c"),
        ("/a/..", "/"),
        // Unreserved characters decode; other escapes stay, in uppercase.
        ("/LiveApp/%72est/v2/broadcasts/create", "/LiveApp/rest/v2/broadcasts/create"),
        ("/%4CiveApp/rest/v2/broadcasts/create", "/LiveApp/rest/v2/broadcasts/create"),
        ("/a/%7e/%7Euser/%41%2d%5f%2E%30", "/a/~/~user/A-_.0"),
        ("/LiveApp/caf%c3%a9", "/LiveApp/caf%C3%A9"),
        ("/LiveApp/a%20b", "/LiveApp/a%20b"),
        // The query may hold anything: it is not the path.
        ("/LiveApp/rest/v2/broadcasts/create?x=;/../..;/%2e%2e//", "/LiveApp/rest/v2/broadcasts/create"),
        ("/LiveApp/x?%00%2f\\", "/LiveApp/x"),
        // Case is kept: Tomcat's contexts are case-sensitive.
        ("/LiveApp/REST/v2", "/LiveApp/REST/v2"),
    ]

    /// Target → why it is refused.
    static let refused: [(String, RequestPathError.Code)] = [
        ("", .notAbsolute),
        ("*", .notAbsolute),
        ("?x=/", .notAbsolute),
        ("LiveApp/rest/v2", .notAbsolute),
        ("http://127.0.0.1/LiveApp/rest/v2", .notAbsolute),
        // Encoded separators.
        ("/LiveApp/rest%2fv2/broadcasts/create", .encodedSeparator),
        ("/LiveApp%2Frest/v2/broadcasts/create", .encodedSeparator),
        ("/LiveApp/rest%5cv2/broadcasts/create", .encodedSeparator),
        ("/LiveApp/rest/%5C..%5C..%5CStreamApp/rest", .encodedSeparator),
        ("/StreamApp/rest/..%2f..%2fLiveApp/rest/v2/broadcasts/create", .encodedSeparator),
        ("/StreamApp%5c..%5cLiveApp/rest/v2/broadcasts/create", .encodedSeparator),
        // Even inside a path parameter, which is dropped: nothing hides behind ";".
        ("/a;p=%2f/b", .encodedSeparator),
        ("/LiveApp/rest\\..\\..\\StreamApp/rest/v2", .backslash),
        // Controls, raw or encoded, C1 included.
        ("/LiveApp/rest/v2/broadcasts%00/create", .controlCharacter),
        ("/LiveApp/rest/v2/%0d%0aX-Authz-App:%20StreamApp/create", .controlCharacter),
        ("/Live%0D%0AX-Authz-App:%20StreamApp/rest/v2/broadcasts/create", .controlCharacter),
        ("/LiveApp/rest/v2/%09/create", .controlCharacter),
        ("/LiveApp/rest/v2/%7f/create", .controlCharacter),
        ("/LiveApp/rest/v2/%c2%85/create", .controlCharacter),
        ("/LiveApp/rest/v2/\u{85}/create", .controlCharacter),
        ("/LiveApp/rest\n/v2", .controlCharacter),
        ("/LiveApp/rest\u{0}/v2", .controlCharacter),
        ("/LiveApp/rest\u{7F}/v2", .controlCharacter),
        ("/a;\r/b", .controlCharacter),
        // Overlong UTF-8 for "." and "/", and bytes that are not UTF-8 at all.
        ("/LiveApp/rest/%c0%ae%c0%ae/%c0%ae%c0%ae/StreamApp/rest", .invalidUTF8),
        ("/LiveApp/rest%c0%afv2/broadcasts/create", .invalidUTF8),
        ("/LiveApp/rest/%e0%80%ae%e0%80%ae/x", .invalidUTF8),
        ("/LiveApp/rest/%f0%80%80%ae/x", .invalidUTF8),
        ("/LiveApp/rest/%ff/x", .invalidUTF8),
        // Broken escapes, %u included.
        ("/LiveApp/rest/%zz/x", .malformedEscape),
        ("/LiveApp/rest/v2/broadcasts/create%", .malformedEscape),
        ("/LiveApp/rest/v2/broadcasts/create%2", .malformedEscape),
        ("/LiveApp/rest/%u002e%u002e/x", .malformedEscape),
        ("/a;x=%zz/b", .malformedEscape),
        // Climbing above the root, in every spelling.
        ("/..", .aboveRoot),
        ("/../LiveApp/rest", .aboveRoot),
        ("/LiveApp/../../x", .aboveRoot),
        ("/%2e%2e/LiveApp", .aboveRoot),
        ("/..;/LiveApp/rest", .aboveRoot),
        ("/a/..;/..;/b", .aboveRoot),
        ("/a/./../..", .aboveRoot),
        ("/a#b", .fragment),
    ]

    @Test(arguments: accepted)
    func normalisesToThePathTheContainerRoutes(_ target: String, _ expected: String) throws {
        let path = try RequestPath(normalizing: target)
        #expect(path.text == expected, "\(target)")
        #expect(path.segments.joined(separator: "/") == Self.decoded(expected).split(separator: "/").joined(separator: "/"), "\(target)")
    }

    /// Every escape decoded, as Tomcat hands a path to the application.
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

    @Test func segmentsAreDecodedAsTheContainerHandsThemToTheApplication() throws {
        let p = try RequestPath(normalizing: "/LiveApp/rest%3Bx/%28a%29/caf%c3%a9/a%20b/%2525")
        #expect(p.text == "/LiveApp/rest%3Bx/%28a%29/caf%C3%A9/a%20b/%2525")
        #expect(p.segments == ["LiveApp", "rest;x", "(a)", "café", "a b", "%25"])
        // The same segments from raw characters.
        #expect(try RequestPath(normalizing: "/LiveApp/(a)/café/a b").segments == ["LiveApp", "(a)", "café", "a b"])
    }

    @Test(arguments: refused)
    func refusesWhatItCannotNormalise(_ target: String, _ code: RequestPathError.Code) {
        do {
            let p = try RequestPath(normalizing: target)
            Issue.record("\(target) normalised to \(p)")
        } catch {
            #expect(error.code == code, "\(target): \(error.message)")
            #expect(!error.message.isEmpty)
        }
    }

    @Test func normalisingIsIdempotent() throws {
        for (_, expected) in Self.accepted {
            #expect(try RequestPath(normalizing: expected).text == expected)
        }
    }

    @Test func theMessageNeverQuotesThePath() {
        let secret = "s3cr3t-token-value"
        for target in ["/a/\(secret)%2f", "/\(secret)/%00", "/../\(secret)", "/\(secret)/%zz"] {
            do {
                _ = try RequestPath(normalizing: target)
                Issue.record("\(target) was accepted")
            } catch {
                #expect(!error.message.contains(secret))
            }
        }
    }

    @Test func aTrailingSlashAddsNoSegment() throws {
        #expect(try RequestPath(normalizing: "/a/b/").segments == ["a", "b"])
        #expect(try RequestPath(normalizing: "/").segments == [])
        #expect(try RequestPath(normalizing: "/a/.").text == "/a")
        #expect(try RequestPath(normalizing: "/a/b/..").text == "/a")
    }
}
