import NIOCore

/// Answers of one connection in request order. An answer that is ready while nothing is waiting
/// ahead of it goes straight to the output; one behind a pending decision (a JWKS fetch) waits
/// in a slot until everything before it is ready, so pipelined answers never overtake.
struct AnswerQueue {
    private var slots: [ByteBuffer?] = []
    private var head = 0
    /// Sequence number of `slots[head]`.
    private var headSeq = 0

    var isEmpty: Bool { head == slots.count }

    /// Reserves the next position for an answer that is not ready yet.
    mutating func reserve() -> Int {
        slots.append(nil)
        return headSeq + (slots.count - 1 - head)
    }

    /// Queues a ready answer behind the waiting ones.
    mutating func appendReady(_ bytes: ByteBuffer) {
        slots.append(bytes)
    }

    /// Fills a reserved slot.
    mutating func fill(_ seq: Int, with bytes: ByteBuffer) {
        slots[head + (seq - headSeq)] = bytes
    }

    /// Moves every answer at the head that is ready into `out`.
    mutating func drainReady(into out: inout ByteBuffer) {
        while head < slots.count, var bytes = slots[head] {
            out.writeBuffer(&bytes)
            slots[head] = nil
            head += 1
            headSeq += 1
        }
        if head == slots.count {
            slots.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 64, head * 2 > slots.count {
            slots.removeFirst(head)
            head = 0
        }
    }

    /// Answers still waiting.
    var waitingCount: Int { slots.count - head }
}
