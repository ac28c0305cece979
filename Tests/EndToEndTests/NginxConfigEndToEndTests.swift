import Foundation
import Testing

/// The shipped snippets pass the real nginx's `nginx -t` installed the way the README says:
/// copied to /etc/nginx/authzd/, example-site.conf linked into sites-enabled, under Debian's own
/// nginx.conf. The tree is rebuilt in a temporary directory; only Debian's absolute directories
/// (/etc/nginx, /var/log/nginx, /var/lib/nginx, /run/nginx.pid) are moved into it, so the check
/// touches nothing on the machine.
@Suite("nginx configuration as installed on Debian")
struct NginxConfigEndToEndTests {
    static let debianConf = "/etc/nginx/nginx.conf"

    /// Runs `nginx -t` on the README's layout; `cached` applies the README's steps for the
    /// decision cache first. Returns nginx's output and the stand-in for /var/lib/nginx.
    func check(cached: Bool) throws -> (CommandResult, String, TempDirectory) {
        for path in [NginxUnderTest.executable, Self.debianConf] where !FileManager.default.fileExists(atPath: path) {
            Issue.record("\(path) is missing: install nginx-light (`make test` does)")
            throw TestFailure("no nginx")
        }
        let dir = try TempDirectory("ngxconf")
        let fm = FileManager.default
        let etc = dir.file("etc-nginx"), varLib = dir.file("var-lib-nginx"), logs = dir.file("var-log-nginx")
        for d in [etc + "/authzd", etc + "/sites-enabled", etc + "/modules-enabled", etc + "/conf.d", varLib, logs] {
            try fm.createDirectory(atPath: d, withIntermediateDirectories: true)
        }
        var main = try String(contentsOfFile: Self.debianConf, encoding: .utf8)
        main = main.replacingOccurrences(of: "/etc/nginx/", with: etc + "/")
            .replacingOccurrences(of: "/var/log/nginx/", with: logs + "/")
            .replacingOccurrences(of: "/run/nginx.pid", with: dir.file("nginx.pid"))
        // Debian's compiled-in temporary directories are in /var/lib/nginx: move them too.
        guard let http = main.range(of: "http {") else { throw TestFailure("\(Self.debianConf) has no http block") }
        main.insert(contentsOf: "\n" + ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map {
            "\t\($0)_temp_path \(varLib)/\($0 == "client_body" ? "body" : $0);"
        }.joined(separator: "\n"), at: http.upperBound)
        try main.write(toFile: etc + "/nginx.conf", atomically: true, encoding: .utf8)
        try fm.copyItem(atPath: "/etc/nginx/mime.types", toPath: etc + "/mime.types")

        // cp deploy/nginx/*.conf /etc/nginx/authzd/
        for name in try fm.contentsOfDirectory(atPath: NginxUnderTest.snippets.path) where name.hasSuffix(".conf") {
            var text = try String(contentsOfFile: NginxUnderTest.snippets.appendingPathComponent(name).path, encoding: .utf8)
            text = text.replacingOccurrences(of: "/var/lib/nginx/", with: varLib + "/")
            if cached && name == "example-site.conf" {
                // The README's two steps: include the cache path, and authzd-cached.conf instead.
                for (old, new) in [("#include authzd/authzd-cache-path.conf;", "include authzd/authzd-cache-path.conf;"),
                                   ("    include authzd/authzd.conf;\n", "    include authzd/authzd-cached.conf;\n")] {
                    #expect(text.components(separatedBy: old).count == 2, "example-site.conf: `\(old)` once")
                    text = text.replacingOccurrences(of: old, with: new)
                }
            }
            try text.write(toFile: etc + "/authzd/" + name, atomically: true, encoding: .utf8)
        }
        // ln -s /etc/nginx/authzd/example-site.conf /etc/nginx/sites-enabled/antmedia.conf
        try fm.createSymbolicLink(atPath: etc + "/sites-enabled/antmedia.conf", withDestinationPath: etc + "/authzd/example-site.conf")
        let r = try runCommand(NginxUnderTest.executable, ["-t", "-c", etc + "/nginx.conf", "-e", logs + "/error.log"])
        return (r, varLib, dir)
    }

    @Test func shippedSiteWithTheCheckEndpointPassesNginxTest() throws {
        let (r, _, dir) = try check(cached: false)
        defer { withExtendedLifetime(dir) {} }
        #expect(r.status == 0, "nginx -t failed:\n\(r.stderr)")
        #expect(r.stderr.contains("test is successful"), "\(r.stderr)")
    }

    @Test func shippedSiteWithTheDecisionCachePassesNginxTestAndCreatesItsDirectory() throws {
        let (r, varLib, dir) = try check(cached: true)
        defer { withExtendedLifetime(dir) {} }
        #expect(r.status == 0, "nginx -t failed:\n\(r.stderr)")
        #expect(r.stderr.contains("test is successful"), "\(r.stderr)")
        // nginx creates the cache directory itself; only its parent must exist beforehand.
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: varLib + "/authzd-cache", isDirectory: &isDirectory) && isDirectory.boolValue)
    }

    /// The parent of the shipped proxy_cache_path is a directory Debian's nginx packages ship.
    @Test func cacheDirectoryParentIsShippedByDebiansNginx() throws {
        let text = try String(contentsOf: NginxUnderTest.snippets.appendingPathComponent("authzd-cache-path.conf"), encoding: .utf8)
        #expect(text.contains("proxy_cache_path /var/lib/nginx/authzd-cache "))
        let owner = try runCommand("/usr/bin/dpkg", ["-S", "/var/lib/nginx"])
        #expect(owner.status == 0 && owner.stdout.contains("nginx-common"), "dpkg -S /var/lib/nginx: \(owner.stdout)\(owner.stderr)")
    }

    /// The `location` blocks of a configuration text (comments removed), each as its own text,
    /// nested blocks included in their parent's.
    static func locationBlocks(_ text: String) -> [String] {
        let code = text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { line in line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? "" }
            .joined(separator: "\n")
        var blocks: [String] = []
        var search = code.startIndex
        while let start = code.range(of: "location ", range: search..<code.endIndex) {
            guard let open = code[start.upperBound...].firstIndex(of: "{") else { break }
            var depth = 0, i = open
            repeat {
                if code[i] == "{" { depth += 1 } else if code[i] == "}" { depth -= 1 }
                i = code.index(after: i)
            } while depth > 0 && i < code.endIndex
            blocks.append(String(code[start.lowerBound..<i]))
            search = start.upperBound
        }
        return blocks
    }

    /// Identity is cleared in every location, not only the protected one: every location of
    /// the shipped site that proxies to the app includes authzd-identity.conf, the example
    /// exemption included, and sets none of its headers itself.
    @Test func everyProxyingLocationOfTheShippedSiteIncludesTheIdentityHeaders() throws {
        let site = try String(contentsOf: NginxUnderTest.snippets.appendingPathComponent("example-site.conf"), encoding: .utf8)
        let identity = try String(contentsOf: NginxUnderTest.snippets.appendingPathComponent("authzd-identity.conf"), encoding: .utf8)
        let managed = identity.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ")
            guard words.first == "proxy_set_header", words.count >= 2 else { return nil }
            return words[1].lowercased()
        }
        #expect(Set(managed).isSuperset(of: ["x-auth-subject", "x-authz-app", "x-authz-reason", "x-real-ip", "x-forwarded-for"]))
        for text in [site, try NginxUnderTest.uncommentExemption(site)] {
            let proxying = Self.locationBlocks(text).filter { $0.contains("proxy_pass http://antmedia") }
            #expect(!proxying.isEmpty)
            for block in proxying {
                let head = block.prefix { $0 != "{" }
                #expect(block.contains("include authzd/authzd-identity.conf;"), "\(head) does not include authzd-identity.conf")
                for name in managed {
                    #expect(!block.lowercased().contains("proxy_set_header \(name) "), "\(head) sets \(name) itself")
                }
            }
        }
        // The exemption is one more proxying location than the shipped site has.
        #expect(Self.locationBlocks(try NginxUnderTest.uncommentExemption(site)).count == Self.locationBlocks(site).count + 1)
    }
}
