/// Which settings a reload may swap in place and which only take effect when the listeners
/// restart: the port and addresses they bind, the auth mode, the limits baked into the
/// WebSocket server and the tick timers, and the HTTP routes that exist (built with the router).
/// Everything else is read per request or handed to its component on the swap.
struct ReloadPlan: Sendable, Equatable {
    /// Key paths of changed restart-only settings (empty: the change is hot-safe).
    var restartPaths: [String]

    var needsRestart: Bool { !restartPaths.isEmpty }

    init(from old: GatewaySettings, to new: GatewaySettings) {
        var paths: [String] = []
        func check(_ changed: Bool, _ path: String) { if changed { paths.append(path) } }
        check(old.port != new.port, "gateway.port")
        check(old.bind != new.bind, "gateway.bind")
        check(old.customBindHost != new.customBindHost, "gateway.customBindHost")
        check(old.authMode != new.authMode, "gateway.auth.mode")
        check(old.limits.maxPayloadBytes != new.limits.maxPayloadBytes, "gateway.limits.maxPayloadBytes")
        check(old.limits.maxPreauthConnections != new.limits.maxPreauthConnections, "gateway.limits.maxPreauthConnections")
        check(old.limits.tickIntervalMs != new.limits.tickIntervalMs, "gateway.limits.tickIntervalMs")
        check(old.limits.healthRefreshMs != new.limits.healthRefreshMs, "gateway.limits.healthRefreshMs")
        check(
            old.agents.chatCompletionsEnabled != new.agents.chatCompletionsEnabled, "gateway.http.endpoints.chatCompletions.enabled"
        )
        check(old.agents.responsesEnabled != new.agents.responsesEnabled, "gateway.http.endpoints.responses.enabled")
        check(old.agents.hooksEnabled != new.agents.hooksEnabled, "hooks.enabled")
        check(old.agents.hooksPath != new.agents.hooksPath, "hooks.path")
        restartPaths = paths
    }

    /// `new` with every restart-only setting kept as in `old` (`hot` mode applies this much).
    /// A secret the kept auth mode needs stays as it was when the new config has none.
    static func hotPart(of new: GatewaySettings, keeping old: GatewaySettings) -> GatewaySettings {
        var result = new
        result.port = old.port
        result.bind = old.bind
        result.customBindHost = old.customBindHost
        result.authMode = old.authMode
        result.limits.maxPayloadBytes = old.limits.maxPayloadBytes
        result.limits.maxPreauthConnections = old.limits.maxPreauthConnections
        result.limits.tickIntervalMs = old.limits.tickIntervalMs
        result.limits.healthRefreshMs = old.limits.healthRefreshMs
        result.agents.chatCompletionsEnabled = old.agents.chatCompletionsEnabled
        result.agents.responsesEnabled = old.agents.responsesEnabled
        result.agents.hooksEnabled = old.agents.hooksEnabled
        result.agents.hooksPath = old.agents.hooksPath
        if result.authMode != new.authMode {
            result.token = new.token ?? old.token
            result.password = new.password ?? old.password
            result.secretSource = old.secretSource
        }
        return result
    }
}
