@testable import AuthzServer
import Testing

@Suite struct OnceEventTests {
    @Test func everyWaiterWakesWhenTheEventHappens() async throws {
        let event = OnceEvent()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 {
                group.addTask { try await event.wait() }
            }
            #expect(!event.hasHappened)
            event.signal()
            try await group.waitForAll()
        }
        #expect(event.hasHappened)
    }

    @Test func waitingAfterTheEventReturnsAtOnce() async throws {
        let event = OnceEvent()
        event.signal()
        event.signal()
        try await event.wait()
        #expect(event.hasHappened)
    }

    @Test func aCancelledWaiterGivesUpWithCancellationError() async {
        let event = OnceEvent()
        let waiter = Task { try await event.wait() }
        waiter.cancel()
        let result = await waiter.result
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(!event.hasHappened)
    }

    @Test func aWaiterCancelledWhileWaitingGivesUpAndOthersStillWake() async throws {
        let event = OnceEvent()
        let cancelled = Task { try await event.wait() }
        let other = Task { try await event.wait() }
        // Whether the cancelled task had started waiting or not, it ends with CancellationError.
        await Task.yield()
        cancelled.cancel()
        let result = await cancelled.result
        #expect(throws: CancellationError.self) { try result.get() }
        event.signal()
        try await other.value
    }
}
