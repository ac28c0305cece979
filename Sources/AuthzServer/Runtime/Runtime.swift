import AuthzCore
import AuthzJSON

/// Everything one configuration generation needs on the request path, built once per load and
/// then only read. Each event loop holds its own reference, swapped on reload by a task on that
/// loop, so the request path reads it without a lock.
final class Runtime: Sendable {
    struct App: Sendable {
        let chain: AppChain
        let counters: AppCounters
    }

    let configuration: Configuration
    let apps: [String: App]
    /// What every request for an app this configuration does not define shares.
    let unknownApp: AppCounters
    let generation: Int

    init(configuration: Configuration, counters: CounterRegistry, generation: Int) {
        self.configuration = configuration
        self.generation = generation
        self.unknownApp = counters.unknownApp
        var apps: [String: App] = [:]
        for (name, chain) in configuration.apps {
            apps[name] = App(chain: chain, counters: counters.counters(for: name))
        }
        self.apps = apps
    }
}
