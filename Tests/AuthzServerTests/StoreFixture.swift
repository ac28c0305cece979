@testable import AuthzServer
import AuthzCore
import AuthzPlugins
import Foundation
import Logging
import NIOCore
import NIOPosix

/// A configuration directory with one app, and a store serving it on two real event loops.
final class StoreFixture {
    let dir: String
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    let shared: ServerShared
    let loops: [LoopState]
    let store: ConfigurationStore
    let log: RecordingLogHandler.Store
    let logger: Logger

    /// Where the configuration puts the daemon's socket.
    var socketPath: String { dir + "/authzd.sock" }

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
        self.logger = logger
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
