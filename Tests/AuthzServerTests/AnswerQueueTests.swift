@testable import AuthzServer
import NIOCore
import Testing

private func bytes(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }

private func drained(_ q: inout AnswerQueue) -> String {
    var out = ByteBuffer()
    q.drainReady(into: &out)
    return String(buffer: out)
}

@Suite struct AnswerQueueTests {
    @Test func readyAnswersPassStraightThrough() {
        var q = AnswerQueue()
        q.appendReady(bytes("1\n"))
        q.appendReady(bytes("2\n"))
        #expect(drained(&q) == "1\n2\n")
        #expect(q.isEmpty)
        #expect(q.waitingCount == 0)
    }

    @Test func anAnswerBehindAReservedSlotWaits() {
        var q = AnswerQueue()
        let slot = q.reserve()
        q.appendReady(bytes("2\n"))
        #expect(drained(&q) == "")
        #expect(q.waitingCount == 2)
        q.fill(slot, with: bytes("1\n"))
        #expect(drained(&q) == "1\n2\n")
        #expect(q.isEmpty)
    }

    @Test func reservedSlotsFilledOutOfOrderLeaveInRequestOrder() {
        var q = AnswerQueue()
        let a = q.reserve()
        let b = q.reserve()
        q.appendReady(bytes("c "))
        let d = q.reserve()
        q.appendReady(bytes("e "))

        q.fill(d, with: bytes("d "))
        #expect(drained(&q) == "")
        q.fill(b, with: bytes("b "))
        #expect(drained(&q) == "")
        q.fill(a, with: bytes("a "))
        #expect(drained(&q) == "a b c d e ")
        #expect(q.isEmpty)
    }

    @Test func aPrefixDrainsAsSoonAsItIsReady() {
        var q = AnswerQueue()
        let a = q.reserve()
        let b = q.reserve()
        q.fill(a, with: bytes("a "))
        #expect(drained(&q) == "a ")
        #expect(q.waitingCount == 1)
        q.appendReady(bytes("c "))
        #expect(drained(&q) == "")
        q.fill(b, with: bytes("b "))
        #expect(drained(&q) == "b c ")
    }

    @Test func sequenceNumbersStayValidAcrossDrainsAndCompaction() {
        // A long run drained while a later slot still waits makes the queue compact its storage;
        // that slot and ones reserved afterwards must still land in order.
        var q = AnswerQueue()
        let a = q.reserve()
        var expected = "a "
        for i in 0..<100 {
            q.appendReady(bytes("r\(i) "))
            expected += "r\(i) "
        }
        let b = q.reserve()
        q.appendReady(bytes("after-b "))
        q.fill(a, with: bytes("a "))
        #expect(drained(&q) == expected)
        #expect(q.waitingCount == 2)

        let c = q.reserve()
        q.appendReady(bytes("after-c "))
        q.fill(c, with: bytes("c "))
        #expect(drained(&q) == "")
        q.fill(b, with: bytes("b "))
        #expect(drained(&q) == "b after-b c after-c ")
        #expect(q.isEmpty)

        // After emptying completely, numbering carries on.
        let d = q.reserve()
        q.appendReady(bytes("e"))
        q.fill(d, with: bytes("d "))
        #expect(drained(&q) == "d e")
    }

    @Test func emptyAnswersStillCountAsReady() {
        var q = AnswerQueue()
        let a = q.reserve()
        q.appendReady(bytes("b"))
        q.fill(a, with: ByteBuffer())
        #expect(drained(&q) == "b")
        #expect(q.isEmpty)
    }
}
