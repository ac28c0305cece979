/// Decides when a quiet connection is given up, so peers that send nothing, or hold a line
/// half-sent, cannot keep `max_connections` slots forever. A pure state machine: the handler
/// reports what happened with the event loop's clock reading and carries out the returned action.
///
/// The rules:
/// - idle: nothing received for `idle` and nothing owed to the client.
/// - incomplete line: a line started but not finished within `request` while authzd was reading.
/// - While authzd owes the client an answer (a decision waits for keys), neither clock runs: a
///   busy client is never cut. When the last answer is out, both clocks start afresh.
/// - While reading is paused because the client does not read its answers, the line clock stops
///   (authzd is not reading the rest of the line) but the idle clock runs: a client that neither
///   sends nor reads for `idle` is closed like an idle one. Each time it reads some answers (the
///   socket becomes writable again) counts as activity.
struct ConnectionTimeouts {
    /// Why a connection is given up.
    enum Expiry: Equatable, Sendable {
        case idle
        case incompleteLine
    }

    /// What the handler must do.
    enum Action: Equatable {
        case none
        /// Run `timerFired` at this uptime (nanoseconds), replacing any earlier timer.
        case arm(at: UInt64)
        case expire(Expiry)
    }

    /// Timeouts in nanoseconds; 0 turns one off.
    let idle: UInt64
    let request: UInt64

    private var lastActivity: UInt64
    /// When the unfinished line started, or when its clock last restarted.
    private var lineStarted: UInt64?
    private var answersPending = false
    private var readingPaused = false
    /// The deadline a timer is set for.
    private var armed: UInt64?
    private var expired = false

    /// Timeouts in whole seconds, 0 meaning never; `now` is when the connection opened.
    init(idleSeconds: Int, requestSeconds: Int, now: UInt64) {
        idle = UInt64(max(0, idleSeconds)) * 1_000_000_000
        request = UInt64(max(0, requestSeconds)) * 1_000_000_000
        lastActivity = now
    }

    /// The connection opened: arms the first timer.
    mutating func start() -> Action {
        rearmIfEarlier()
    }

    /// Bytes arrived. `endedLine`: at least one line (or overlong line) ended in them;
    /// `midLine`: a line is unfinished after them.
    mutating func received(now: UInt64, endedLine: Bool, midLine: Bool) -> Action {
        lastActivity = now
        if !midLine {
            lineStarted = nil
        } else if endedLine || lineStarted == nil {
            // A new line began in this read.
            lineStarted = now
        }
        return rearmIfEarlier()
    }

    /// The handler's view after anything that may change it: whether answers wait for a
    /// decision, and whether reading is paused (by backpressure or by too many waiting answers).
    mutating func update(now: UInt64, answersPending pending: Bool, readingPaused paused: Bool, midLine: Bool) -> Action {
        let resumed = (answersPending && !pending) || (readingPaused && !paused)
        answersPending = pending
        readingPaused = paused
        if !midLine { lineStarted = nil }
        if resumed {
            // The clocks were stopped on authzd's account: they start again from now.
            lastActivity = now
            if midLine { lineStarted = now }
        }
        return rearmIfEarlier()
    }

    /// The client read some of its answers (the socket became writable again).
    mutating func clientRead(now: UInt64) -> Action {
        lastActivity = now
        return rearmIfEarlier()
    }

    /// The timer set by `.arm` ran.
    mutating func timerFired(now: UInt64) -> Action {
        armed = nil
        guard !expired, let (at, expiry) = deadline() else { return .none }
        if now >= at {
            expired = true
            return .expire(expiry)
        }
        armed = at
        return .arm(at: at)
    }

    /// The earliest deadline that applies now, and what happens there; nil while no clock runs.
    func deadline() -> (UInt64, Expiry)? {
        if expired || answersPending { return nil }
        var best: (UInt64, Expiry)?
        if idle > 0 { best = (lastActivity + idle, .idle) }
        if request > 0, !readingPaused, let started = lineStarted {
            let at = started + request
            if best == nil || at < best!.0 { best = (at, .incompleteLine) }
        }
        return best
    }

    /// Arms only when the deadline moved earlier than the timer already set: activity only
    /// pushes deadlines later, so a busy connection re-arms once per timeout, not once per read.
    private mutating func rearmIfEarlier() -> Action {
        guard let (at, _) = deadline() else { return .none }
        if let armed, armed <= at { return .none }
        armed = at
        return .arm(at: at)
    }
}
