internal import CSystemd

/// Reports the daemon's state to the service manager through `sd_notify(3)`.
///
/// Every call is a no-op returning `false` when `NOTIFY_SOCKET` is unset, so the daemon can call
/// these unconditionally whether or not systemd runs it. The environment is never unset, because
/// watchdog pings must keep working for the life of the process.
public struct SystemdNotifier: Sendable {
    /// A notifier that talks to the socket named in `NOTIFY_SOCKET`.
    public init() {}

    /// Sends a raw state string, newline-separated `NAME=value` assignments (see sd_notify(3)).
    /// - Returns: `true` if the message was sent; `false` if `NOTIFY_SOCKET` is unset or sending failed.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        sd_notify(0, state) > 0
    }

    /// Tells the manager that start-up (or a reload) is complete, optionally with a status line.
    @discardableResult
    public func ready(status: String? = nil) -> Bool {
        guard let status else { return notify("READY=1") }
        return notify("READY=1\nSTATUS=" + Self.oneLine(status))
    }

    /// Tells the manager that a reload has begun. systemd (v253 and later) wants the monotonic
    /// timestamp to match the reload with the `READY=1` that ends it; older versions ignore it.
    @discardableResult
    public func reloading() -> Bool {
        notify("RELOADING=1\nMONOTONIC_USEC=\(authzd_monotonic_usec())")
    }

    /// Tells the manager that the daemon is shutting down.
    @discardableResult
    public func stopping() -> Bool {
        notify("STOPPING=1")
    }

    /// Sets the free-form status line `systemctl status` shows.
    @discardableResult
    public func status(_ text: String) -> Bool {
        notify("STATUS=" + Self.oneLine(text))
    }

    /// Pings the watchdog. Call it every ``watchdogInterval`` from the path that does real work,
    /// so a stuck daemon stops pinging and systemd restarts it.
    @discardableResult
    public func watchdog() -> Bool {
        notify("WATCHDOG=1")
    }

    /// How often to ping the watchdog: half of `WATCHDOG_USEC`, as sd_watchdog_enabled(3) advises,
    /// or `nil` when the watchdog is off or meant for another process (`WATCHDOG_PID`).
    public var watchdogInterval: Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(clamping: usec / 2))
    }

    /// A newline would end the `STATUS=` assignment and start a bogus one.
    private static func oneLine(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D }) else { return text }
        return String(text.map { $0 == "\n" || $0 == "\r" || $0 == "\r\n" ? " " : $0 })
    }
}
