@testable import AuthzServer
import AuthzCore
import AuthzPlugins
import Foundation
import Testing

@Suite struct ConfigurationStoreTests {
    @Test func aValidReloadReachesEveryEventLoopUnderTheNextGeneration() async throws {
        let f = try StoreFixture()
        try f.write("apps.d/api.toml", StoreFixture.allowLoopback)
        #expect(f.store.reload() == .applied(generation: 2, apps: 2))
        for seen in try await f.seenByLoops() {
            #expect(seen.apps == ["api", "web"])
            #expect(seen.generation == 2)
        }
        #expect(f.store.configuration.apps.count == 2)
        #expect(f.shared.lastReloadError.withLock { $0 } == nil)
    }

    @Test func anInvalidReloadKeepsTheOldConfigurationAndReportsItsFirstError() async throws {
        let f = try StoreFixture()
        try f.write("apps.d/web.toml", "[[chain]]\nplugin = \"ip_allowlist\"\nallow = []\n")
        guard case .failed(let first) = f.store.reload() else {
            Issue.record("an empty allow list was applied")
            return
        }
        #expect(first.hasPrefix(f.dir + "/apps.d/web.toml:3:"))
        for seen in try await f.seenByLoops() {
            #expect(seen.apps == ["web"])
            #expect(seen.generation == 1)
        }
        #expect(f.shared.lastReloadError.withLock { $0 } == first)
        let status = StatusReport(apps: f.store.configuration.apps.count, rate: .zero, shared: f.shared)
        #expect(status.text == "1 apps, 0 decisions/s, 0% denied; last reload failed: \(first)")
        #expect(f.log.messages.contains("reload failed: \(first)"))
    }

    @Test func aGoodReloadAfterABadOneClearsTheFailure() throws {
        let f = try StoreFixture()
        try f.write("authzd.toml", "[server]\nnot_a_key = 1\n")
        guard case .failed = f.store.reload() else {
            Issue.record("an unknown key was accepted")
            return
        }
        try f.write("authzd.toml", "[server]\nsocket = \"\(f.dir)/authzd.sock\"\n")
        // A failed reload takes no generation: the next good one is 2.
        #expect(f.store.reload() == .applied(generation: 2, apps: 1))
        #expect(f.shared.lastReloadError.withLock { $0 } == nil)
    }

    @Test func aNewSocketPathIsWarnedAboutOnlyWhenTheDaemonPlacedItsOwn() throws {
        let f = try StoreFixture()
        try f.write("authzd.toml", "[server]\nsocket = \"\(f.dir)/other.sock\"\n")
        _ = f.store.reload()
        let warning = "server.socket changed; the new path takes effect after a restart"
        #expect(!f.log.messages.contains(warning), "a socket passed by systemd has no path of ours to move")
        f.store.socketPlaced(at: f.dir + "/authzd.sock")
        _ = f.store.reload()
        #expect(f.log.messages.contains(warning))
    }
}
