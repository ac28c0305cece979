import NIOCore

/// Lets a repeated log record through at most once per `interval` and counts the ones it held
/// back, so what a client can trigger at will (refused connections, malformed subrequests) shows
/// up in the log as one line per interval with a count, never as a flood.
struct LogThrottle {
    let interval: TimeAmount
    private var lastLogged: NIODeadline?
    /// Occurrences since the last record that was let through.
    private(set) var held = 0

    init(interval: TimeAmount) {
        self.interval = interval
    }

    /// Records one occurrence. Returns the number to report (this one and those held back since the
    /// last report) when a record may be written now, else nil.
    mutating func record(now: NIODeadline) -> Int? {
        held += 1
        return flush(now: now)
    }

    /// The number held back, when there are some and a record may be written now; resets it.
    mutating func flush(now: NIODeadline) -> Int? {
        guard held > 0 else { return nil }
        if let last = lastLogged, now < last + interval { return nil }
        lastLogged = now
        defer { held = 0 }
        return held
    }

    /// When a held-back count may next be written.
    var nextReport: NIODeadline? {
        guard held > 0, let lastLogged else { return nil }
        return lastLogged + interval
    }
}
