import AuthzSystemd
import Logging
import ServiceLifecycle

/// What systemd is told, besides reloads: `READY=1` once the daemon listens with its
/// configuration loaded, a `STATUS=` summary every few seconds, `WATCHDOG=1` from the event
/// loops when `WatchdogSec=` asks for it, and `STOPPING=1` when the group shuts down.
struct SystemdReporterService: Service {
    let notifier: SystemdNotifier
    /// Happens when the socket server listens and start-up work is done.
    let ready: OnceEvent
    let store: ConfigurationStore
    let shared: ServerShared
    /// Every event loop, for the watchdog probe.
    let loops: [LoopState]
    let logger: Logger
    /// How often `STATUS=` is refreshed.
    var statusPeriod: Duration = .seconds(5)

    func run() async throws {
        let ready = self.ready
        do {
            try await cancelWhenGracefulShutdown { try await ready.wait() }
        } catch {
            // Shut down before the daemon was ready: nothing was announced, but say we stop.
            if !Task.isCancelled { notifier.stopping() }
            return
        }
        let configuration = store.configuration
        notifier.ready(status: StatusReport(apps: configuration.apps.count, rate: .zero, shared: shared).text)
        logger.notice("authzd ready: \(configuration.apps.count) apps from \(store.path)")

        let reporter = self
        await cancelWhenGracefulShutdown { await reporter.report() }
        if Task.isCancelled { return }
        notifier.stopping()
        logger.notice("stopping: no new connections; answering the lines already read")
    }

    /// Refreshes `STATUS=` and pings the watchdog until cancelled.
    private func report() async {
        await withTaskGroup(of: Void.self) { group in
            let statusPeriod = self.statusPeriod
            let seconds = Double(statusPeriod.components.seconds) + Double(statusPeriod.components.attoseconds) / 1e18
            group.addTask {
                var rate = DecisionRate(totals: shared.counters.totals())
                await every(statusPeriod) {
                    let sample = rate.sample(totals: shared.counters.totals(), seconds: seconds)
                    notifier.status(StatusReport(apps: store.configuration.apps.count, rate: sample, shared: shared).text)
                }
            }
            if let interval = notifier.watchdogInterval {
                let notifier = self.notifier
                let probe = WatchdogProbe(loops: loops.map(\.eventLoop)) { notifier.watchdog() }
                group.addTask {
                    probe.probe()
                    await every(interval) { probe.probe() }
                }
            }
        }
    }
}
