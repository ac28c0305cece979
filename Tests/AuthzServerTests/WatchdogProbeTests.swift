@testable import AuthzServer
import NIOCore
import NIOPosix
import Synchronization
import Testing

@Suite struct WatchdogProbeTests {
    /// Waits (briefly, polling) until `condition` holds.
    private func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<500 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    @Test func thePingIsSentOnceEveryLoopHasAnswered() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 3)
        let pings = Atomic<Int>(0)
        let probe = WatchdogProbe(loops: Array(group.makeIterator())) { pings.add(1, ordering: .relaxed) }
        #expect(probe.probe())
        #expect(await eventually { pings.load(ordering: .relaxed) == 1 })
        #expect(probe.probe())
        #expect(await eventually { pings.load(ordering: .relaxed) == 2 })
        try await group.shutdownGracefully()
    }

    @Test func aStuckLoopGetsNoPingAndNoPileOfProbesUntilItAnswers() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loops = Array(group.makeIterator())
        let pings = Atomic<Int>(0)
        let probe = WatchdogProbe(loops: loops) { pings.add(1, ordering: .relaxed) }
        // Hold the second loop in a task until released, as a loop stuck in a handler would be.
        let release = Atomic<Bool>(false)
        let stuck = Atomic<Bool>(false)
        loops[1].execute {
            stuck.store(true, ordering: .relaxed)
            while !release.load(ordering: .relaxed) { sched_yield() }
        }
        #expect(await eventually { stuck.load(ordering: .relaxed) })
        #expect(probe.probe())
        // The first loop answers at once; the probe stays open because the second cannot.
        try await loops[0].submit {}.get()
        #expect(!probe.probe(), "a second probe was started while the first was unanswered")
        #expect(pings.load(ordering: .relaxed) == 0)
        release.store(true, ordering: .relaxed)
        #expect(await eventually { pings.load(ordering: .relaxed) == 1 })
        #expect(await eventually { probe.probe() })
        try await group.shutdownGracefully()
    }
}
