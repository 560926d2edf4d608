/// Known `client.id` values. The reference server only admits this closed set (case-insensitively).
public enum GatewayClientID {
    public static let all: [String] = [
        "webchat-ui", "openclaw-control-ui", "webchat", "cli", "gateway-client", "openclaw-macos",
        "openclaw-ios", "openclaw-android", "node-host", "test", "fingerprint", "openclaw-probe",
        "openclaw-browser-copilot", "openclaw-tui", "openclaw-linux", "openclaw-watchos",
    ]
    private static let lookup = Set(all)

    /// The canonical (lower-case) id, or nil when it is not a known client id.
    public static func canonical(_ id: String) -> String? {
        let lowered = id.lowercased()
        return lookup.contains(lowered) ? lowered : nil
    }

    /// Browser-hosted clients, which are held to the origin allowlist.
    public static let browserClients: Set<String> = ["openclaw-control-ui", "webchat-ui", "webchat"]
}

/// Known `client.mode` values.
public enum GatewayClientMode {
    public static let all: [String] = ["webchat", "cli", "ui", "backend", "node", "probe", "test"]
    private static let lookup = Set(all)

    public static func canonical(_ mode: String) -> String? {
        let lowered = mode.lowercased()
        return lookup.contains(lowered) ? lowered : nil
    }
}

/// `connect.params.client`.
public struct ClientInfo: Codable, Sendable, Equatable {
    public var id: String
    public var version: String
    public var platform: String
    public var mode: String
    public var displayName: String?
    public var deviceFamily: String?
    public var modelIdentifier: String?
    public var instanceId: String?
    public var buildId: String?
    public var timeZone: String?

    public init(
        id: String, version: String, platform: String, mode: String, displayName: String? = nil,
        deviceFamily: String? = nil, modelIdentifier: String? = nil, instanceId: String? = nil
    ) {
        self.id = id
        self.version = version
        self.platform = platform
        self.mode = mode
        self.displayName = displayName
        self.deviceFamily = deviceFamily
        self.modelIdentifier = modelIdentifier
        self.instanceId = instanceId
    }
}
