import AuthzJSON
import NIOCore

/// The FIFO of check lines written on one upstream connection and not yet answered.
///
/// authzd answers a connection's lines in order (SPEC §3), one answer per line, so the oldest entry
/// is the one the next answer belongs to. An echoed id is checked too, so a desynchronised stream
/// is noticed rather than answers being handed to the wrong requests. An answer without an id is
/// still the oldest entry's: authzd leaves the id out only when it could not read it from the line
/// (`line_too_long`, or a line that is not JSON), and that line still gets exactly one answer.
/// An entry that times out is answered right away but stays queued (as a tombstone) until its late
/// answer arrives, so the matching stays aligned.
/// Pure state, generic over what waits, so tests drive it without sockets or promises.
struct PendingChecks<Waiter> {
    struct Entry {
        var id: Int
        var deadline: NIODeadline
        /// nil once the entry has been answered by a timeout.
        var waiter: Waiter?
    }

    /// What to do with an answer line.
    enum AnswerAction {
        /// Hand the answer to this waiter.
        case deliver(Waiter)
        /// The waiter already had its timeout; drop the answer.
        case discard
        /// Nothing was pending: the stream is out of step.
        case unexpected
        /// The answer's id is not the oldest pending id: the stream is out of step.
        case idMismatch(expected: Int)
    }

    private(set) var entries = CircularBuffer<Entry>(initialCapacity: 16)
    /// Entries at the front that already timed out. Deadlines grow along the queue (one timeout
    /// for all), so timed-out entries are always a prefix.
    private(set) var timedOut = 0
    private var nextID = 1

    var count: Int { entries.count }

    /// Number of entries whose waiter still waits.
    var waitingCount: Int { entries.count - timedOut }

    /// The id the next `enqueue` will return.
    var upcomingID: Int { nextID }

    /// Queues a waiter and returns the id to send.
    mutating func enqueue(_ waiter: Waiter, deadline: NIODeadline) -> Int {
        let id = nextID
        nextID = nextID == Int.max ? 1 : nextID + 1
        entries.append(Entry(id: id, deadline: deadline, waiter: waiter))
        return id
    }

    /// Matches an answer against the oldest entry: by its echoed id, or by position alone when it
    /// has none.
    mutating func answer(id: JSONValue?) -> AnswerAction {
        guard let first = entries.first else { return .unexpected }
        if let id {
            guard let echoed = id.numberValue?.int64, echoed == Int64(first.id) else {
                return .idMismatch(expected: first.id)
            }
        }
        entries.removeFirst()
        if timedOut > 0 {
            timedOut -= 1
            return .discard
        }
        return .deliver(first.waiter!)
    }

    /// Takes the waiters whose deadline has passed; their entries stay as tombstones.
    mutating func expire(now: NIODeadline) -> [Waiter] {
        var expired: [Waiter] = []
        while timedOut < entries.count {
            let i = entries.index(entries.startIndex, offsetBy: timedOut)
            guard entries[i].deadline <= now, let w = entries[i].waiter else { break }
            entries[i].waiter = nil
            expired.append(w)
            timedOut += 1
        }
        return expired
    }

    /// Deadline of the oldest entry that still waits.
    var nextDeadline: NIODeadline? {
        guard timedOut < entries.count else { return nil }
        return entries[entries.index(entries.startIndex, offsetBy: timedOut)].deadline
    }

    /// Empties the queue (the connection is gone) and returns every waiter still waiting.
    mutating func removeAll() -> [Waiter] {
        let waiting = entries.dropFirst(timedOut).compactMap(\.waiter)
        entries.removeAll(keepingCapacity: true)
        timedOut = 0
        return waiting
    }
}
