@testable import AuthzServer
import AuthzSystemd
import Foundation
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing
import UnixSignals

@Suite struct ConfigReloaderServiceTests {
    /// Waits (briefly, polling) until `condition` holds.
    private func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<500 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    @Test func aHangupReloadsOnceTheDaemonIsReadyAndShutdownEndsTheLoop() async throws {
        let f = try StoreFixture()
        let store = f.store
        let ready = OnceEvent()
        // Trapped here, so the SIGHUP this test sends to itself reaches the reloader.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let reloader = ConfigReloaderService(signals: hangups, store: store, shared: f.shared, ready: ready,
                                             notifier: SystemdNotifier())
        try f.write("apps.d/api.toml", StoreFixture.allowLoopback)
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await reloader.run() }
                kill(getpid(), SIGHUP)
                // Not ready yet: the hangup waits rather than reloading before READY=1.
                #expect(store.configuration.apps.count == 1)
                ready.signal()
                #expect(await eventually { store.configuration.apps.count == 2 })

                try f.write("apps.d/api.toml", "[[chain]]\nplugin = \"nope\"\n")
                kill(getpid(), SIGHUP)
                #expect(await eventually { f.shared.lastReloadError.withLock { $0 } != nil })
                #expect(store.configuration.apps.count == 2, "a broken reload replaced the configuration")

                trigger.triggerGracefulShutdown()
                try await group.next()
            }
        }
    }
}
