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
        let ready = self.ready
        do {
            try await cancelWhenGracefulShutdown { try await ready.wait() }
        } catch {
            return
        }
        for await _ in signals.cancelOnGracefulShutdown() {
            notifier.reloading()
            switch store.reload() {
            case .applied(_, let apps):
                notifier.ready(status: StatusReport(apps: apps, rate: .zero, shared: shared).text)
            case .failed(let firstError):
                notifier.ready(status: StatusReport.reloadFailed(firstError))
            }
        }
    }
}
