@testable import AuthzServer
import AuthzSystemd
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing

@Suite struct SystemdReporterServiceTests {
    /// Waits (briefly, polling) until `condition` holds.
    private func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<500 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    @Test func readyIsAnnouncedOnlyAfterTheServerIsReadyAndShutdownSaysStopping() async throws {
        let f = try StoreFixture()
        let ready = OnceEvent()
        let reporter = SystemdReporterService(notifier: SystemdNotifier(), ready: ready, store: f.store, shared: f.shared,
                                              loops: f.loops, logger: f.logger)
        let log = f.log
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await reporter.run() }
                #expect(!log.messages.contains { $0.hasPrefix("authzd ready") })
                ready.signal()
                #expect(await eventually { log.messages.contains("authzd ready: 1 apps from \(f.dir)/authzd.toml") })
                trigger.triggerGracefulShutdown()
                try await group.next()
            }
        }
        #expect(log.messages.last == "stopping: no new connections; answering the lines already read")
    }

    @Test func shutdownBeforeReadyAnnouncesNothing() async throws {
        let f = try StoreFixture()
        let reporter = SystemdReporterService(notifier: SystemdNotifier(), ready: OnceEvent(), store: f.store,
                                              shared: f.shared, loops: f.loops, logger: f.logger)
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await reporter.run() }
                trigger.triggerGracefulShutdown()
                try await group.next()
            }
        }
        #expect(!f.log.messages.contains { $0.hasPrefix("authzd ready") })
    }
}
