@testable import AuthzServer
import AuthzCore
import AuthzPlugins
import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing

/// A configuration directory with one app, and a store serving it on two real event loops.
private final class StoreFixture {
    let dir: String
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    let shared: ServerShared
    let loops: [LoopState]
    let store: ConfigurationStore
    let log: RecordingLogHandler.Store

    static let allowLoopback = "[[chain]]\nplugin = \"ip_allowlist\"\nallow = [\"127.0.0.1\"]\n"

    init() throws {
        var template = Array("/tmp/authzd-store-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw DaemonError("mkdtemp failed") }
        dir = String(cString: made)
        try FileManager.default.createDirectory(atPath: dir + "/apps.d", withIntermediateDirectories: true)
        try "[server]\nsocket = \"\(dir)/authzd.sock\"\n".write(toFile: dir + "/authzd.toml", atomically: true, encoding: .utf8)
        try Self.allowLoopback.write(toFile: dir + "/apps.d/web.toml", atomically: true, encoding: .utf8)

        let (logger, log) = RecordingLogHandler.logger()
        self.log = log
        let resources = SharedResources()
        let loader = ConfigLoader(registry: BuiltinPlugins.registry, resources: resources, logger: logger)
        let initial = try loader.load(path: dir + "/authzd.toml")
        shared = ServerShared(resources: resources, logger: logger)
        let runtime = Runtime(configuration: initial, counters: shared.counters, generation: 1)
        loops = group.makeIterator().map { LoopState(runtime: runtime, eventLoop: $0) }
        store = ConfigurationStore(path: dir + "/authzd.toml", initial: initial, loader: loader, shared: shared,
                                   loops: loops, logger: logger)
    }

    deinit {
        try? group.syncShutdownGracefully()
        try? FileManager.default.removeItem(atPath: dir)
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
    }

    /// The apps and generation each loop decides with, read on that loop.
    func seenByLoops() async throws -> [(apps: [String], generation: Int)] {
        var seen: [(apps: [String], generation: Int)] = []
        for state in loops {
            seen.append(try await state.eventLoop.submit { (state.runtime.apps.keys.sorted(), state.runtime.generation) }.get())
        }
        return seen
    }
}

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
