import AuthzSystemd
import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the configuration on every SIGHUP: `RELOADING=1`, then `READY=1` with a status that
/// says whether the new configuration serves or the previous one still does (SPEC §6).
struct ConfigReloaderService: Service {
    /// SIGHUP, trapped before the socket exists so that no reload asked for once clients can
    /// reach the daemon is lost or kills it.
    let signals: UnixSignalsSequence
    let store: ConfigurationStore
    let shared: ServerShared
    /// Reloads wait for the daemon's first `READY=1`, so theirs never comes before it.
    let ready: OnceEvent
    let notifier: SystemdNotifier

    func run() async throws {
        // Hangups become at most one pending reload: a burst of them, before READY or during a
        // reload, asks for one more reload rather than one each, and nothing queues up.
        let (requests, requested) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let signals = self.signals
        let ready = self.ready
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in signals.cancelOnGracefulShutdown() { requested.yield() }
                requested.finish()
            }
            do {
                try await cancelWhenGracefulShutdown { try await ready.wait() }
            } catch {
                group.cancelAll()
                return
            }
            for await _ in requests { reload() }
        }
    }

    /// One reload, between `RELOADING=1` and `READY=1`.
    private func reload() {
        notifier.reloading()
        switch store.reload() {
        case .applied(_, let apps):
            notifier.ready(status: StatusReport(apps: apps, rate: .zero, shared: shared).text)
        case .failed(let firstError):
            notifier.ready(status: StatusReport.reloadFailed(firstError))
        }
    }
}
