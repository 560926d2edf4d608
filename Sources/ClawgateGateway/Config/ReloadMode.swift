/// `gateway.reload.mode`: what the gateway does when its config file changes (seed 004).
public enum ReloadMode: String, Sendable, Equatable, CaseIterable {
    /// The file is not watched; `config.patch` / `config.apply` still apply when asked.
    case off
    /// Hot-safe changes apply; changes that need a restart are only reported.
    case hot
    /// Every change restarts the listeners in process.
    case restart
    /// Hot-safe changes apply in place; the listeners restart in process when a change needs it.
    case hybrid

    public static let `default` = ReloadMode.hybrid

    init(config: GatewayConfig) {
        self = config.gateway.reloadMode.flatMap(ReloadMode.init(rawValue:)) ?? .default
    }
}
