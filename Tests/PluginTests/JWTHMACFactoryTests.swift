import AuthzCore
import Foundation
import JWTHMACPlugin
import Testing

@Suite struct JWTHMACFactoryTests {
    private let secret = "zautXStXM9iW3aD3FuyPH0TdK4GHPmHq"

    @Test func secretLengthMustReachTheLargestAlgorithmsHash() throws {
        let e = try StepFixture.error(JWTHMACFactory(), "algorithms = [\"HS256\", \"HS512\"]\nsecret = \"\(secret)\"\n")
        #expect(e?.line == 2)
        #expect(e?.message.contains("64") == true)
        let short = try StepFixture.error(JWTHMACFactory(), "secret = \"\(secret.dropLast())\"\n")
        #expect(short?.message.contains("31 bytes") == true)
        #expect(short?.message.contains(String(secret.dropLast())) == false, "a secret never appears in a message")
    }

    @Test func forwardClaimsHeaderNamesAreRFC9110Tokens() throws {
        for name in ["x-auth-subject", "X_Sub", "x.auth.sub", "x~sub"] {
            #expect(throws: Never.self) {
                try StepFixture.plugin(JWTHMACFactory(), "secret = \"\(secret)\"\nforward_claims = { sub = \"\(name)\" }\n")
            }
        }
        for name in ["x auth", "x:sub", "x(sub)", ""] {
            let e = try StepFixture.error(JWTHMACFactory(), "secret = \"\(secret)\"\nforward_claims = { sub = \"\(name)\" }\n")
            #expect(e?.line == 2, "\(name)")
            #expect(e?.message.contains("not a valid header name") == true, "\(name)")
        }
    }

    @Test func aSecretFileLosesOneTrailingNewline() throws {
        let dir = try StepFixture.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, text) in [("lf.key", secret + "\n"), ("crlf.key", secret + "\r\n"), ("bare.key", secret)] {
            try Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/" + name))
            #expect(throws: Never.self) { try StepFixture.plugin(JWTHMACFactory(), "secret_file = \"\(name)\"\n", baseDirectory: dir) }
        }
        // 31 bytes plus a newline is still 31 bytes.
        try Data((String(secret.dropLast()) + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/short.key"))
        let e = try StepFixture.error(JWTHMACFactory(), "secret_file = \"short.key\"\n", baseDirectory: dir)
        #expect(e?.message.contains("31") == true)
    }

    @Test func aMissingSecretFileNamesItsLine() throws {
        let e = try StepFixture.error(JWTHMACFactory(), "\nsecret_file = \"no/such.key\"\n", baseDirectory: "/nonexistent-dir")
        #expect(e?.line == 2)
        #expect(e?.message.contains("no/such.key") == true)
    }

    @Test(arguments: [
        ("algorithms = []", "empty"),
        ("algorithms = [\"RS256\"]", "RS256"),
        ("algorithms = [\"none\"]", "none"),
        ("algorithms = [\"hs256\"]", "hs256"),
        ("token_from = []", "empty"),
        ("token_from = [\"cookie:\"]", "cookie:"),
        ("token_from = [\"form:x\"]", "form:x"),
        ("leeway = -1", "leeway"),
        ("issuer = 5", "issuer"),
        ("audience = [1]", "audience"),
        ("required_claims = \"sub\"", "required_claims"),
        ("forward_claims = { sub = \"bad header\" }", "bad header"),
        ("forward_claims = \"sub\"", "forward_claims"),
        ("secrets = []", "empty"),
        ("kid = \"x\"", "kid"),
    ])
    func badSettingsAreRefusedAtTheirLine(_ line: String, _ mention: String) throws {
        let toml = line.hasPrefix("secrets") ? "\n\(line)\n" : "secret = \"\(secret)\"\n\(line)\n"
        let e = try StepFixture.error(JWTHMACFactory(), toml)
        #expect(e?.line == 2, "\(String(describing: e))")
        #expect(e?.message.contains(mention) == true, "\(String(describing: e))")
    }

    @Test func everyProblemOfAStepIsRecordedNotJustTheFirst() throws {
        let errs = try StepFixture.errors(JWTHMACFactory(), """
            leeway = "5"
            algorithms = ["HS384", "ES256"]
            secret = "\(secret)"
            token_from = ["form:x", "cookie:jwt"]
            forward_claims = { sub = 1, name = "bad header" }
            issuers = "x"
            """)
        #expect(errs.map(\.line) == [1, 2, 3, 4, 5, 5, 6], "\(errs)")
        #expect(errs[0].message.contains("leeway"))
        #expect(errs[1].message.contains("ES256"))
        // The valid algorithm still sets the length: HS384 needs 48 bytes.
        #expect(errs[2].message.contains("32 bytes") && errs[2].message.contains("48"), "\(errs[2])")
        #expect(errs[3].message.contains("form:x"))
        #expect(errs[6].message.contains("issuers"))
    }

    @Test func aShortSecretIsReportedNextToTwoSecretSources() throws {
        let errs = try StepFixture.errors(JWTHMACFactory(), "secret = \"tiny\"\nsecrets = [{ secret = \"\(secret)\" }]\n")
        #expect(errs.contains { $0.message.contains("exactly one") }, "\(errs)")
        #expect(errs.contains { $0.line == 1 && $0.message.contains("4 bytes") }, "\(errs)")
    }
}
