import AuthzCore
import AuthzFetch
import AuthzJSON
import Foundation
import Testing

/// CurlFetcher against the real HTTPS test provider.
@Suite(.serialized)
struct FetchCurlTests {
    static let fetcher = CurlFetcher(threads: 2)

    func fetch(_ request: HTTPFetchRequest, with fetcher: CurlFetcher = FetchCurlTests.fetcher) async -> Result<HTTPFetchResponse, HTTPFetchError> {
        await withCheckedContinuation { c in fetcher.fetch(request) { c.resume(returning: $0) } }
    }

    @Test func fetchesOverHTTPSTrustingTheExtraCAFile() async throws {
        guard let p = JWKSTestProvider.start() else { return }
        p.setRawKeySet(#"{"keys":[]}"#)
        p.setHeaders(["Cache-Control": "public, max-age=120"])
        let r = try await fetch(HTTPFetchRequest(url: p.url, timeoutSeconds: 5, caFile: p.caFile)).get()
        #expect(r.status == 200)
        #expect(String(decoding: r.body, as: UTF8.self) == #"{"keys":[]}"#)
        #expect(r.header("Cache-Control") == "public, max-age=120")
        #expect(p.fetchCount == 1)
    }

    @Test func refusesAServerNoTrustedCAVouchesFor() async {
        guard let p = JWKSTestProvider.start() else { return }
        let r = await fetch(HTTPFetchRequest(url: p.url, timeoutSeconds: 5))
        guard case .failure(let e) = r else { Issue.record("self-signed server was trusted"); return }
        #expect(e.message.lowercased().contains("certificate"))
    }

    @Test func extraCAFileAddsToTheSystemBundleInsteadOfReplacingIt() async throws {
        // The provider's certificate plays the "system" bundle; an unrelated certificate is the
        // extra ca_file. Trusting the provider proves the system bundle was kept.
        guard let p = JWKSTestProvider.start(), let other = JWKSTestProvider.start() else { return }
        let fetcher = CurlFetcher(threads: 1, systemCABundle: p.caFile)
        defer { fetcher.shutdown() }
        let r = try await fetch(HTTPFetchRequest(url: p.url, timeoutSeconds: 5, caFile: other.caFile), with: fetcher).get()
        #expect(r.status == 200)
    }

    @Test func unreadableCAFileIsAFetchError() async {
        guard let p = JWKSTestProvider.start() else { return }
        let r = await fetch(HTTPFetchRequest(url: p.url, timeoutSeconds: 5, caFile: p.dir + "/absent.pem"))
        guard case .failure(let e) = r else { Issue.record("fetch succeeded without its ca_file"); return }
        #expect(e.message.hasPrefix("ca_file"))
    }

    @Test func serverErrorIsReturnedAsAStatus() async throws {
        guard let p = JWKSTestProvider.start() else { return }
        p.setMode("500")
        let r = try await fetch(HTTPFetchRequest(url: p.url, timeoutSeconds: 5, caFile: p.caFile)).get()
        #expect(r.status == 500)
    }

    @Test func hangingServerFailsWithATimeout() async {
        guard let p = JWKSTestProvider.start() else { return }
        p.setMode("hang")
        p.setHangSeconds(20)
        let r = await fetch(HTTPFetchRequest(url: p.url, timeoutSeconds: 0.5, caFile: p.caFile))
        guard case .failure(let e) = r else { Issue.record("hanging server answered"); return }
        #expect(e.message.lowercased().contains("timed out") || e.message.lowercased().contains("timeout"))
    }

    @Test func closedPortFails() async {
        guard let p = JWKSTestProvider.start() else { return }
        let url = p.url, ca = p.caFile
        p.stop()
        let r = await fetch(HTTPFetchRequest(url: url, timeoutSeconds: 2, caFile: ca))
        guard case .failure = r else { Issue.record("closed port answered"); return }
    }

    @Test func oversizedBodyIsRefused() async {
        guard let p = JWKSTestProvider.start() else { return }
        p.setMode("big")
        let r = await fetch(HTTPFetchRequest(url: p.url, timeoutSeconds: 5, caFile: p.caFile, maxBytes: 1 << 20))
        guard case .failure(let e) = r else { Issue.record("4 MiB body accepted under a 1 MiB cap"); return }
        #expect(e.message.contains("larger than"))
    }

    @Test func followsARedirectButNotALoop() async throws {
        guard let p = JWKSTestProvider.start() else { return }
        p.setRawKeySet(#"{"keys":[]}"#)
        let ok = try await fetch(HTTPFetchRequest(url: p.url("/redirect"), timeoutSeconds: 5, caFile: p.caFile)).get()
        #expect(ok.status == 200)
        #expect(String(decoding: ok.body, as: UTF8.self) == #"{"keys":[]}"#)
        let loop = await fetch(HTTPFetchRequest(url: p.url("/redirect-loop"), timeoutSeconds: 5, caFile: p.caFile, maxRedirects: 3))
        guard case .failure(let e) = loop else { Issue.record("redirect loop was followed to an answer"); return }
        #expect(e.message.lowercased().contains("redirect"))
    }

    @Test func postsTheBodyAndHeadersItIsGiven() async throws {
        guard let p = JWKSTestProvider.start() else { return }
        let form = Array("token=abc%2Bdef&token_type_hint=access_token".utf8)
        let r = try await fetch(HTTPFetchRequest(
            url: p.url("/echo"), timeoutSeconds: 5, caFile: p.caFile, maxRedirects: 0, method: .post,
            headers: [("Authorization", "Basic YTpi"), ("Content-Type", "application/x-www-form-urlencoded")],
            body: form)).get()
        let seen = try JSONParser.parse(r.body)
        #expect(seen["method"]?.stringValue == "POST")
        #expect(seen["body"]?.stringValue == "token=abc%2Bdef&token_type_hint=access_token")
        #expect(seen["headers"]?["authorization"]?.stringValue == "Basic YTpi")
        #expect(seen["headers"]?["content-type"]?.stringValue == "application/x-www-form-urlencoded")
        #expect(seen["headers"]?["content-length"]?.stringValue == String(form.count))
    }

    @Test func getSendsOnlyTheHeadersItIsGiven() async throws {
        guard let p = JWKSTestProvider.start() else { return }
        let r = try await fetch(HTTPFetchRequest(url: p.url("/echo"), timeoutSeconds: 5, caFile: p.caFile,
                                                 headers: [("Accept", "application/json")])).get()
        let seen = try JSONParser.parse(r.body)
        #expect(seen["method"]?.stringValue == "GET")
        #expect(seen["headers"]?["accept"]?.stringValue == "application/json")
        #expect(seen["headers"]?["authorization"] == nil)
        #expect(seen["body"]?.stringValue == "")
    }

    @Test func aHeaderValueWithALineBreakFailsTheFetchInsteadOfReachingTheWire() async {
        guard let p = JWKSTestProvider.start() else { return }
        let r = await fetch(HTTPFetchRequest(url: p.url("/echo"), timeoutSeconds: 5, caFile: p.caFile,
                                             headers: [("X-A", "1\r\nX-Injected: 1")]))
        guard case .failure(let e) = r else { Issue.record("a header with CR LF was sent"); return }
        #expect(e.message.contains("control character"))
    }

    @Test func httpsIsNotDowngradedToOtherProtocols() async {
        // A URL scheme other than http(s) is refused outright.
        let r = await fetch(HTTPFetchRequest(url: "file:///etc/hostname", timeoutSeconds: 1))
        guard case .failure = r else { Issue.record("file:// URL was fetched"); return }
    }

    @Test func manyConcurrentFetchesAllComplete() async {
        guard let p = JWKSTestProvider.start() else { return }
        p.setRawKeySet(#"{"keys":[]}"#)
        let statuses = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let r = await self.fetch(HTTPFetchRequest(url: p.url, timeoutSeconds: 5, caFile: p.caFile))
                    return (try? r.get().status) ?? -1
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: 8))
        #expect(p.fetchCount == 8)
    }

    @Test func shutDownFetcherFailsNewFetchesImmediately() async {
        let f = CurlFetcher(threads: 1)
        f.shutdown()
        let r = await fetch(HTTPFetchRequest(url: "https://127.0.0.1:1/", timeoutSeconds: 1), with: f)
        guard case .failure(let e) = r else { Issue.record("shut-down fetcher fetched"); return }
        #expect(e.message.contains("shut down"))
    }
}
