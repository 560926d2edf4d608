import Synchronization

/// What makes `/ready` fail besides starting and stopping: components reported failing with
/// a reason. `store` and `provider:<id>` come from the periodic checks (`GatewayCore
/// .checkReadiness`); `config-reload` from the config reloader (`reportReloadFailure`).
final class ReadinessComponents: Sendable {
    static let store = "store"
    static let configReload = "config-reload"
    static let providerPrefix = "provider:"

    private let failures = Mutex<[String: String]>([:])

    func set(_ component: String, failure: String?) {
        failures.withLock { $0[component] = failure }
    }

    /// Replaces every `provider:*` entry with the latest probe's findings.
    func setProviders(_ findings: [String: String]) {
        failures.withLock { map in
            map = map.filter { !$0.key.hasPrefix(Self.providerPrefix) }
            for (id, reason) in findings { map[Self.providerPrefix + id] = reason }
        }
    }

    /// Failing components, sorted by name, with their reasons.
    var failing: [(component: String, reason: String)] {
        failures.withLock { $0.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    }
}
