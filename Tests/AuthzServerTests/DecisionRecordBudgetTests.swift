@testable import AuthzServer
import Dispatch
import Synchronization
import Testing

@Suite struct DecisionRecordBudgetTests {
    @Test func onlyTheLimitIsAdmittedInOneSecondAndTheRestIsReportedByTheNext() {
        let budget = DecisionRecordBudget()
        var written = 0
        for _ in 0..<25 {
            if case .write(let s) = budget.admit(now: 1_000, limit: 10) {
                #expect(s == 0)
                written += 1
            }
        }
        #expect(written == 10)
        #expect(budget.admit(now: 1_001, limit: 10) == .write(suppressed: 15))
        #expect(budget.admit(now: 1_001, limit: 10) == .write(suppressed: 0))
    }

    @Test func aLoopThatReadTheClockJustBeforeTheSecondTurnedCountsInTheNewSecond() {
        let budget = DecisionRecordBudget()
        #expect(budget.admit(now: 2_000, limit: 2) == .write(suppressed: 0))
        #expect(budget.admit(now: 2_001, limit: 2) == .write(suppressed: 0))
        // A straggler from 2000 must not reopen 2000's window (and with it a fresh allowance).
        #expect(budget.admit(now: 2_000, limit: 2) == .write(suppressed: 0))
        #expect(budget.admit(now: 2_000, limit: 2) == .suppress)
        #expect(budget.admit(now: 2_001, limit: 2) == .suppress)
        // A clock stepped back by more than that starts afresh rather than going silent.
        #expect(budget.admit(now: 1_000, limit: 2) == .write(suppressed: 2))
    }

    @Test func theLimitHoldsAcrossThreadsAndNothingIsLost() {
        let budget = DecisionRecordBudget()
        let written = Atomic<Int>(0)
        let threads = 4, each = 20_000, limit = 100
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            for _ in 0..<each {
                if case .write = budget.admit(now: 5_000, limit: limit) { written.add(1, ordering: .relaxed) }
            }
        }
        #expect(written.load(ordering: .relaxed) == limit)
        #expect(budget.admit(now: 5_001, limit: limit) == .write(suppressed: threads * each - limit))
    }
}
