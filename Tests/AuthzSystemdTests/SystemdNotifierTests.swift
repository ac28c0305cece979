import Glibc
import Testing

@testable import AuthzSystemd

/// These tests change the process environment, so each runs its body in a child process (an exit
/// test): tests running in parallel in this process never see NOTIFY_SOCKET or WATCHDOG_USEC.
@Suite struct SystemdNotifierTests {
    @Test func notificationsArriveOnTheNotifySocketAsSdNotifyFormatsThem() async throws {
        let receiver = try DatagramReceiver()
        let before = monotonicMicroseconds()
        await #expect(processExitsWith: .success) { [path = receiver.path as String] in
            setenv("NOTIFY_SOCKET", path, 1)
            let notifier = SystemdNotifier()
            let sent = [
                notifier.ready(status: "serving 2 apps"),
                notifier.status("reload failed:\nline 3"),
                notifier.reloading(),
                notifier.ready(),
                notifier.watchdog(),
                notifier.stopping(),
                notifier.notify("ERRNO=0"),
            ]
            exit(sent.allSatisfy { $0 } ? 0 : 1)
        }
        let after = monotonicMicroseconds()
        let messages = receiver.receiveAll()
        try #require(messages.count == 7)
        #expect(messages[0] == "READY=1\nSTATUS=serving 2 apps")
        #expect(messages[1] == "STATUS=reload failed: line 3")
        #expect(messages[3] == "READY=1")
        #expect(messages[4] == "WATCHDOG=1")
        #expect(messages[5] == "STOPPING=1")
        #expect(messages[6] == "ERRNO=0")

        let reload = messages[2].split(separator: "\n")
        try #require(reload.count == 2)
        #expect(reload[0] == "RELOADING=1")
        #expect(reload[1].hasPrefix("MONOTONIC_USEC="))
        let usec = try #require(UInt64(reload[1].dropFirst("MONOTONIC_USEC=".count)))
        // The stamp is CLOCK_MONOTONIC, read while the child ran.
        #expect(usec >= before && usec <= after)
    }

    @Test func withoutNotifySocketEveryCallIsANoOpReturningFalse() async {
        await #expect(processExitsWith: .success) {
            unsetenv("NOTIFY_SOCKET")
            let notifier = SystemdNotifier()
            let sent = [notifier.ready(status: "x"), notifier.reloading(),
                        notifier.watchdog(), notifier.stopping(), notifier.notify("READY=1")]
            exit(sent.contains(true) ? 1 : 0)
        }
    }

    @Test func watchdogIntervalIsHalfOfWatchdogUsecForThisProcess() async {
        await #expect(processExitsWith: .success) {
            setenv("WATCHDOG_USEC", "30000000", 1)
            setenv("WATCHDOG_PID", "\(getpid())", 1)
            exit(SystemdNotifier().watchdogInterval == .seconds(15) ? 0 : 1)
        }
    }

    @Test func watchdogIntervalWithoutWatchdogPidStillApplies() async {
        await #expect(processExitsWith: .success) {
            setenv("WATCHDOG_USEC", "5000000", 1)
            unsetenv("WATCHDOG_PID")
            exit(SystemdNotifier().watchdogInterval == .milliseconds(2500) ? 0 : 1)
        }
    }

    @Test func watchdogMeantForAnotherProcessIsNil() async {
        await #expect(processExitsWith: .success) {
            setenv("WATCHDOG_USEC", "30000000", 1)
            setenv("WATCHDOG_PID", "\(getppid())", 1)
            exit(SystemdNotifier().watchdogInterval == nil ? 0 : 1)
        }
    }

    @Test func watchdogIntervalIsNilWhenWatchdogIsOff() async {
        await #expect(processExitsWith: .success) {
            unsetenv("WATCHDOG_USEC")
            unsetenv("WATCHDOG_PID")
            exit(SystemdNotifier().watchdogInterval == nil ? 0 : 1)
        }
    }
}
