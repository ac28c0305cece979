import AntMediaImport
import AuthzCore
import AuthzTOML
import Foundation
import Testing

/// From `red5-web.properties` to steps: spellings, precedence, defaults, and each refusal.
@Suite struct AntMediaImporterTests {
    // MARK: What is imported

    @Test func anEmptyFileGivesAntMediasDefaultIPFilterOnly() throws {
        let app = try imported("# nothing set\nserver.name=LiveApp\n")
        #expect(app.steps.map(\.plugin) == ["ip_allowlist"])
        guard case .ipAllowlist(let allow, _) = app.steps[0] else { Issue.record("not an ip step"); return }
        #expect(allow == ["127.0.0.1"])
        #expect(!app.holdsSecret)
    }

    @Test func remoteAllowedCIDRIsSplitAtCommasAndTrimmed() throws {
        let app = try imported("ipFilterEnabled=true\nremoteAllowedCIDR= 10.0.0.0/8 ,192.168.1.0/24,, ::1 ,\\\n  2001:db8::/32\n")
        guard case .ipAllowlist(let allow, _) = app.steps.first else { Issue.record("no ip step"); return }
        #expect(allow == ["10.0.0.0/8", "192.168.1.0/24", "::1", "2001:db8::/32"])
    }

    @Test func theJWTFilterWithASecretBecomesRequiredJwtHmacAfterTheIPFilter() throws {
        let app = try imported("jwtControlEnabled=true\njwtSecretKey=\(goodSecret)\n")
        #expect(app.steps.map(\.plugin) == ["ip_allowlist", "jwt_hmac"])
        #expect(app.steps[1] == .jwtHMAC(secret: goodSecret, origin: "jwtControlEnabled, line 1; jwtSecretKey, line 2"))
        #expect(app.holdsSecret)
    }

    @Test func aJWKSURLWinsOverASecret() throws {
        let app = try imported("jwtControlEnabled=true\njwtSecretKey=\(goodSecret)\njwksURL=https://idp.example.com/jwks.json\n")
        #expect(app.steps.map(\.plugin) == ["ip_allowlist", "jwks"])
        guard case .jwks(let url, _) = app.steps[1] else { Issue.record("no jwks step"); return }
        #expect(url == "https://idp.example.com/jwks.json")
        #expect(!app.holdsSecret)
    }

    @Test func aBlankJWKSURLMeansTheSecret() throws {
        let app = try imported("jwtControlEnabled=true\njwksURL=   \njwtSecretKey=\(goodSecret)\n")
        #expect(app.steps.map(\.plugin) == ["ip_allowlist", "jwt_hmac"])
    }

    @Test func theIPFilterOffLeavesOnlyTheJWTStep() throws {
        let app = try imported("ipFilterEnabled=false\nremoteAllowedCIDR=10.0.0.0/8\njwtControlEnabled=true\njwtSecretKey=\(goodSecret)\n")
        #expect(app.steps.map(\.plugin) == ["jwt_hmac"])
    }

    @Test func theJWTFilterOffIgnoresItsSettings() throws {
        // A short secret does not matter while the filter that would use it is off.
        let app = try imported("jwtControlEnabled=false\njwtSecretKey=short\njwksURL=not a url\n")
        #expect(app.steps.map(\.plugin) == ["ip_allowlist"])
    }

    @Test func theLegacySpellingsAreRead() throws {
        let app = try imported("""
            settings.ipFilterEnabled=true
            settings.remoteAllowedCIDR=172.16.0.0/12
            settings.jwtControlEnabled=true
            settings.jwtSecretKey=\(goodSecret)
            """)
        #expect(app.steps == [
            .ipAllowlist(allow: ["172.16.0.0/12"], origin: "settings.ipFilterEnabled, line 1; settings.remoteAllowedCIDR, line 2"),
            .jwtHMAC(secret: goodSecret, origin: "settings.jwtControlEnabled, line 3; settings.jwtSecretKey, line 4"),
        ])
        let jwks = try imported("settings.jwtControlEnabled=true\nsettings.jwksURL=https://idp.example.com/keys\n")
        #expect(jwks.steps.last == .jwks(url: "https://idp.example.com/keys",
                                         origin: "settings.jwtControlEnabled, line 1; settings.jwksURL, line 2"))
    }

    @Test func precedenceIsByPresenceNotValue() throws {
        let errors = importErrors("""
            remoteAllowedCIDR=10.0.0.0/8
            settings.remoteAllowedCIDR=0.0.0.0/0
            settings.jwtControlEnabled=true
            jwtControlEnabled=false
            settings.ipFilterEnabled=false
            """)
        // settings.ipFilterEnabled=false counts (no plain one); jwtControlEnabled=false beats the
        // legacy true; so both filters are off.
        #expect(errors.map(\.code) == [.unprotectedApp])
        #expect(errors.first?.line == 5)

        let app = try imported("""
            settings.remoteAllowedCIDR=0.0.0.0/0
            remoteAllowedCIDR=10.0.0.0/8
            settings.jwtSecretKey=short
            jwtSecretKey=\(goodSecret)
            jwtControlEnabled=true
            """)
        #expect(app.steps == [
            .ipAllowlist(allow: ["10.0.0.0/8"], origin: "ipFilterEnabled by default; remoteAllowedCIDR, line 2"),
            .jwtHMAC(secret: goodSecret, origin: "jwtControlEnabled, line 5; jwtSecretKey, line 4"),
        ])
        // An empty plain value still wins over a legacy one.
        let empty = importErrors("settings.remoteAllowedCIDR=10.0.0.0/8\nremoteAllowedCIDR=\n")
        #expect(empty.map(\.code) == [.emptyAllowlist])
        #expect(empty.first?.line == 2)
    }

    @Test func switchesAreTrueOrFalseInAnyCase() throws {
        let app = try imported("ipFilterEnabled = FALSE\njwtControlEnabled = True \njwtSecretKey=\(goodSecret)\n")
        #expect(app.steps.map(\.plugin) == ["jwt_hmac"])
    }

    @Test func aSwitchThatIsNeitherTrueNorFalseIsRefusedAtItsLine() {
        for value in ["yes", "1", "on", "", "tru"] {
            let errors = importErrors("server.name=x\n\njwtControlEnabled=\(value)\n")
            #expect(errors.map(\.code) == [.badBoolean], "\(value)")
            #expect(errors.first?.line == 3)
            #expect(errors.first?.message.contains("jwtControlEnabled") == true)
        }
    }

    @Test func aSecretIsCarriedOverExactlyWithEscapesAndLatin1() throws {
        // Java reads the file as Latin-1 and resolves escapes; the HMAC key is that string's UTF-8.
        let text = "jwtControlEnabled=true\njwtSecretKey=  \\u00e9\\\\quote\\\"tab\\tcontrol\\u0001\\u007F-end-of-a-long-secret \n"
        let app = try imported(text)
        let expected = "\u{E9}\\quote\"tab\tcontrol\u{01}\u{7F}-end-of-a-long-secret "
        #expect(app.steps.last == .jwtHMAC(secret: expected, origin: "jwtControlEnabled, line 1; jwtSecretKey, line 2"))
        // The file's TOML gives back the same string.
        let toml = try TOML.parse(app.render())
        guard case .array(let steps)? = toml["chain"]?.value, case .table(let step) = steps[1].value,
              case .string(let secret)? = step["secret"]?.value else {
            Issue.record("no secret in the rendered file"); return
        }
        #expect(secret == expected)
        _ = try loadThroughConfigLoader(app)
    }

    // MARK: Refusals, each at its line

    @Test func aShortSecretIsRefusedAtItsLineWithoutShowingIt() {
        let errors = importErrors("jwtControlEnabled=true\n# the key\njwtSecretKey=s3cr3t-but-only-31-bytes-long!!\n")
        #expect(errors.map(\.code) == [.shortSecret])
        #expect(errors.first?.line == 3)
        #expect(errors.first?.message.contains("31 bytes") == true)
        #expect(errors.first?.description.contains("s3cr3t") == false)
        #expect(errors.first?.description.hasPrefix("red5-web.properties:3: jwtSecretKey is 31 bytes") == true)
    }

    @Test func aSecretOf32BytesIsEnough() throws {
        let app = try imported("jwtControlEnabled=true\njwtSecretKey=\(String(repeating: "k", count: 32))\n")
        #expect(app.steps.map(\.plugin) == ["ip_allowlist", "jwt_hmac"])
    }

    @Test func aSecretWithHalfASurrogatePairIsRefused() {
        let errors = importErrors("jwtControlEnabled=true\njwtSecretKey=\\uD800\(goodSecret)\n")
        #expect(errors.map(\.code) == [.badSecret])
        #expect(errors.first?.line == 2)
    }

    @Test func eachBadCIDRIsRefusedAtTheLineOfTheList() {
        let errors = importErrors("a=b\nremoteAllowedCIDR=10.0.0.0/8, 10.0.0.1/8, 300.1.1.1, 10.0.0.0/33\n")
        #expect(errors.count == 3)
        #expect(errors.allSatisfy { $0.code == .badCIDR && $0.line == 2 })
        let text = errors.map(\.message).joined(separator: "\n")
        #expect(text.contains("10.0.0.1/8"))
        #expect(text.contains("did you mean 10.0.0.0/8"))
        #expect(text.contains("300.1.1.1"))
        #expect(text.contains("10.0.0.0/33"))
        // A bad default-off list does not matter while the filter is off.
        #expect(importErrors("ipFilterEnabled=false\nremoteAllowedCIDR=nonsense\njwtControlEnabled=true\njwtSecretKey=\(goodSecret)\n").isEmpty)
    }

    @Test func anEmptyAllowListWithTheFilterOnIsRefused() {
        let errors = importErrors("ipFilterEnabled=true\nremoteAllowedCIDR= , ,\n")
        #expect(errors.map(\.code) == [.emptyAllowlist])
        #expect(errors.first?.line == 2)
    }

    @Test func theJWTFilterWithNeitherSecretNorURLIsRefused() {
        let errors = importErrors("x=1\njwtControlEnabled=true\njwtSecretKey=\njwksURL=\n")
        #expect(errors.map(\.code) == [.noCredential])
        #expect(errors.first?.line == 2)
    }

    @Test func bothFiltersOffIsRefusedRatherThanAnEmptyChain() {
        let errors = importErrors("ipFilterEnabled=false\n")
        #expect(errors.map(\.code) == [.unprotectedApp])
        #expect(errors.first?.line == 1)
        #expect(errors.first?.message.contains("open to anyone") == true)
    }

    @Test func aJWKSURLThePluginRefusesIsReportedAtItsLine() {
        let errors = importErrors("jwtControlEnabled=true\n\njwksURL=ftp://idp.example.com/keys\n")
        #expect(errors.map(\.code) == [.invalidStep])
        #expect(errors.first?.line == 3)
        #expect(errors.first?.message.hasPrefix("jwksURL: url must be") == true)
    }

    @Test func aMalformedUnicodeEscapeRefusesTheFileAtItsLine() {
        let errors = importErrors("a=1\nb=\\uZZZZ\n")
        #expect(errors.map(\.code) == [.malformedProperties])
        #expect(errors.first?.line == 2)
    }

    @Test func anAppNameAuthzdCannotUseIsRefused() {
        for name in ["with space", "", ".hidden", String(repeating: "a", count: 65), "caf\u{E9}", "a\nb"] {
            let errors = importErrors("", name: name)
            #expect(errors.map(\.code) == [.badAppName], "\(name)")
            #expect(!(errors.first?.description.contains("\n") ?? true))
        }
        #expect(importErrors("", name: String(repeating: "a", count: 64)).isEmpty)
        #expect(importErrors("", name: "Live_App-2.v1").isEmpty)
    }

    @Test func anUnreadableFileIsRefused() throws {
        let dir = try ScratchDirectory()
        // A directory where the file should be cannot be read, even by root.
        try dir.mkdir("LiveApp/WEB-INF/red5-web.properties")
        let missing = importer.importApp(name: "LiveApp", file: dir.path + "/LiveApp/WEB-INF/red5-web.properties")
        guard case .failure(let e) = missing else { Issue.record("a directory was read as a file"); return }
        #expect(e.errors.map(\.code) == [.unreadableFile])
        #expect(e.errors.first?.line == 0)
        #expect(e.errors.first?.message == "not a regular file")
        // A FIFO would block a plain open(2): it is refused before any read.
        let fifo = dir.path + "/fifo.properties"
        #expect(mkfifo(fifo, 0o600) == 0)
        guard case .failure(let e3) = importer.importApp(name: "LiveApp", file: fifo) else { Issue.record("a FIFO was read"); return }
        #expect(e3.errors.map(\.code) == [.unreadableFile])
        let gone = importer.importApp(name: "LiveApp", file: dir.path + "/nothing.properties")
        guard case .failure(let e2) = gone else { Issue.record("a missing file was read"); return }
        #expect(e2.errors.map(\.code) == [.unreadableFile])
    }

    @Test func severalProblemsOfOneAppAreAllReported() {
        let errors = importErrors("remoteAllowedCIDR=\njwtControlEnabled=true\njwtSecretKey=short\n")
        #expect(Set(errors.map(\.code)) == [.emptyAllowlist, .shortSecret])
        #expect(errors.map(\.line) == [1, 3])
    }

    // MARK: The app file

    @Test func everyImportedShapeLoadsThroughTheConfigLoader() throws {
        let shapes = [
            "",
            "remoteAllowedCIDR=10.0.0.0/8,::1\n",
            "jwtControlEnabled=true\njwtSecretKey=\(goodSecret)\n",
            "ipFilterEnabled=false\njwtControlEnabled=true\njwksURL=https://idp.example.com/jwks.json\n",
            "settings.jwtControlEnabled=true\nsettings.jwtSecretKey=\(goodSecret)\"\\\\\n",
        ]
        for text in shapes {
            let app = try imported(text)
            let chain = try loadThroughConfigLoader(app)
            #expect(chain.steps.map(\.pluginName) == app.steps.map(\.plugin), "\(text)")
            #expect(chain.steps.allSatisfy { $0.control == .required })
        }
    }

    @Test func theImportedIPFilterAllowsAndDeniesAsAntMediaWould() throws {
        let chain = try loadThroughConfigLoader(try imported("remoteAllowedCIDR=10.0.0.0/8, 127.0.0.1\n"))
        func allowed(_ ip: String) -> Bool? {
            guard case .decided(let d) = chain.evaluate(CheckRequest(app: "LiveApp", remoteAddr: ip), now: 0) else { return nil }
            return d.allow
        }
        #expect(allowed("10.20.30.40") == true)
        #expect(allowed("127.0.0.1") == true)
        #expect(allowed("192.168.1.1") == false)
        #expect(allowed("127.0.0.2") == false)
    }

    @Test func theFileIsDeterministicNamesItsSourceAndMasksOnRequest() throws {
        let text = "jwtControlEnabled=true\njwtSecretKey=\(goodSecret)\n"
        let a = try imported(text), b = try imported(text)
        #expect(a.render() == b.render())
        #expect(a.render().hasPrefix("# App \"LiveApp\", imported by `authzd import antmedia` from\n# red5-web.properties\n"))
        #expect(a.render().contains(goodSecret))
        let masked = a.render(maskingSecrets: true)
        #expect(!masked.contains(goodSecret))
        #expect(masked.contains("40 bytes, not shown"))
    }

    @Test func aSourcePathWithANewlineCannotBreakOutOfTheHeaderComment() throws {
        let app = importer.importApp(name: "LiveApp", file: "/odd\n[[chain]]\nplugin = \"x\"/red5-web.properties", bytes: [])
        guard case .success(let a) = app else { Issue.record("import failed"); return }
        let chain = try loadThroughConfigLoader(a)
        #expect(chain.steps.map(\.pluginName) == ["ip_allowlist"])
    }

    @Test func onlyAFileStartingWithTheImportersFirstLineCountsAsImported() throws {
        let app = try imported("")
        #expect(ImportedApp.isImportedFile(Array(app.render().utf8), name: "LiveApp"))
        // The same header for another app, a file whose first line was deleted, a hand-written file.
        #expect(!ImportedApp.isImportedFile(Array(app.render().utf8), name: "Live"))
        let taken = app.render().split(separator: "\n", maxSplits: 1)[1]
        #expect(!ImportedApp.isImportedFile(Array(taken.utf8), name: "LiveApp"))
        #expect(!ImportedApp.isImportedFile(Array("[[chain]]\nplugin = \"ip_allowlist\"\n".utf8), name: "LiveApp"))
    }
}
