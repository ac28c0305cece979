import AuthzJSON
import NIOCore
import Testing

@testable import AuthzNginx

@Suite struct PendingChecksTests {
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test func answersGoToWaitersInRequestOrder() {
        var p = PendingChecks<String>()
        let a = p.enqueue("a", deadline: t0)
        let b = p.enqueue("b", deadline: t0)
        guard case .deliver("a") = p.answer(id: .number(JSONNumber(a))) else { Issue.record("a not delivered"); return }
        guard case .deliver("b") = p.answer(id: .number(JSONNumber(b))) else { Issue.record("b not delivered"); return }
        #expect(p.count == 0)
    }

    @Test func anAnswerForAnotherIdOrWithNothingPendingIsADesync() {
        var p = PendingChecks<String>()
        guard case .unexpected = p.answer(id: 1) else { Issue.record("expected unexpected"); return }
        let a = p.enqueue("a", deadline: t0)
        guard case .idMismatch(let expected) = p.answer(id: .number(JSONNumber(a + 1))) else {
            Issue.record("expected a mismatch")
            return
        }
        #expect(expected == a)
        guard case .idMismatch = p.answer(id: "1") else { Issue.record("an id of another type must not match"); return }
    }

    /// authzd leaves the id out only when it could not read the line (line_too_long, not JSON);
    /// that line still had its one answer, so the answer is the oldest check's, and the ones behind
    /// it keep theirs.
    @Test func anAnswerWithoutIdBelongsToTheOldestPendingCheck() {
        var p = PendingChecks<String>()
        _ = p.enqueue("a", deadline: t0)
        let b = p.enqueue("b", deadline: t0)
        guard case .deliver("a") = p.answer(id: nil) else { Issue.record("a not delivered"); return }
        guard case .deliver("b") = p.answer(id: .number(JSONNumber(b))) else { Issue.record("b not delivered"); return }
        guard case .unexpected = p.answer(id: nil) else { Issue.record("nothing is pending"); return }
    }

    @Test func upcomingIdIsTheIdTheNextEnqueueReturns() {
        var p = PendingChecks<String>()
        let next = p.upcomingID
        #expect(p.enqueue("a", deadline: t0) == next)
        #expect(p.upcomingID == next + 1)
    }

    @Test func timedOutEntriesStayAsTombstonesSoLateAnswersStillLineUp() {
        var p = PendingChecks<String>()
        let a = p.enqueue("a", deadline: t0)
        let b = p.enqueue("b", deadline: t0 + .seconds(1))
        #expect(p.expire(now: t0) == ["a"])
        #expect(p.waitingCount == 1)
        #expect(p.nextDeadline == t0 + .seconds(1))
        guard case .discard = p.answer(id: .number(JSONNumber(a))) else { Issue.record("late answer not discarded"); return }
        guard case .deliver("b") = p.answer(id: .number(JSONNumber(b))) else { Issue.record("b not delivered"); return }
    }

    @Test func removeAllReturnsOnlyWaitersStillWaiting() {
        var p = PendingChecks<String>()
        _ = p.enqueue("a", deadline: t0)
        _ = p.enqueue("b", deadline: t0 + .seconds(5))
        #expect(p.expire(now: t0 + .seconds(1)) == ["a"])
        #expect(p.removeAll() == ["b"])
        #expect(p.count == 0)
        #expect(p.nextDeadline == nil)
    }
}
