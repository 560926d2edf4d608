/// Event names the gateway emits.
public enum GatewayEvent {
    public static let connectChallenge = "connect.challenge"
    public static let tick = "tick"
    public static let presence = "presence"
    public static let health = "health"
    public static let shutdown = "shutdown"
    public static let devicePairRequested = "device.pair.requested"
    public static let devicePairResolved = "device.pair.resolved"
    public static let chat = "chat"
    public static let agent = "agent"
    public static let configChanged = "config.changed"
}

/// `tick` payload.
public struct TickEvent: Codable, Sendable, Equatable {
    public var ts: Int
    public init(ts: Int) { self.ts = ts }
}

/// `shutdown` payload: why the gateway is going away and when it may be back.
public struct ShutdownEvent: Codable, Sendable, Equatable {
    public var reason: String
    public var restartExpectedMs: Int?

    public init(reason: String, restartExpectedMs: Int? = nil) {
        self.reason = reason
        self.restartExpectedMs = restartExpectedMs
    }
}
