import ClawgateMesh

/// The parts of an OpenClaw config file that Clawgate acts on, with OpenClaw's key names.
///
/// Every field is optional: absent means "use the default". Defaults live in
/// `GatewaySettings`, which merges this with flags and environment.
public struct GatewayConfig: Sendable, Equatable {
    public var gateway = Gateway()
    public var logging = Logging()
    public var mesh = Mesh()
    public var agents = AgentsConfig()

    public init() {}

    public struct Gateway: Sendable, Equatable {
        public var mode: String?
        public var port: Int?
        public var bind: BindMode?
        public var customBindHost: String?
        public var auth = Auth()
        public var trustedProxies: [String] = []
        public var controlUi = ControlUI()
        public var reloadMode: String?
        public var remote = Remote()
        public var autoApproveLocalPairing: Bool?
        public var limits = Limits()
        public var metrics = Metrics()
        public init() {}
    }

    /// `gateway.metrics`: who may scrape `GET /metrics` (Clawgate's own key).
    public struct Metrics: Sendable, Equatable {
        /// `gateway.metrics.public`: true serves `/metrics` without auth (a private network's
        /// scraper); by default it needs the shared secret as a bearer token.
        public var isPublic: Bool?
        public init() {}
    }

    public struct Auth: Sendable, Equatable {
        public var mode: AuthMode?
        public var token: Secret?
        public var password: Secret?
        public var rateLimit = RateLimit()
        public var trustedProxy = TrustedProxy()
        public init() {}
    }

    public struct RateLimit: Sendable, Equatable {
        public var maxAttempts: Int?
        public var windowMs: Int?
        public var lockoutMs: Int?
        public var exemptLoopback: Bool?
        public init() {}
    }

    public struct TrustedProxy: Sendable, Equatable {
        public var userHeader: String?
        public var requiredHeaders: [String] = []
        public var allowUsers: [String] = []
        public init() {}
    }

    public struct ControlUI: Sendable, Equatable {
        public var enabled: Bool?
        public var allowedOrigins: [String] = []
        public init() {}
    }

    /// What the CLI uses to reach a gateway.
    public struct Remote: Sendable, Equatable {
        public var url: String?
        public var token: Secret?
        public var password: Secret?
        public init() {}
    }

    /// Clawgate's own limits (not an OpenClaw key): documented in the README.
    public struct Limits: Sendable, Equatable {
        public var maxPayloadBytes: Int?
        public var maxBufferedBytes: Int?
        public var handshakeTimeoutMs: Int?
        public var tickIntervalMs: Int?
        public var healthRefreshMs: Int?
        public var maxPreauthConnections: Int?
        public var slowConsumerTimeoutMs: Int?
        public var pingIntervalMs: Int?
        public init() {}
    }

    /// `mesh.*`: agent mesh behaviour.
    public struct Mesh: Sendable, Equatable {
        public var settings = MeshSettings()
        public var sweepIntervalMs: Int?
        public init() {}
    }

    public struct Logging: Sendable, Equatable {
        public var level: String?
        public var file: String?
        public init() {}
    }
}

/// Which addresses the gateway listens on.
public enum BindMode: String, Sendable, Equatable, CaseIterable {
    /// 127.0.0.1 and ::1.
    case loopback
    /// All interfaces (0.0.0.0).
    case lan
    /// `gateway.customBindHost`.
    case custom
}

/// How clients prove they may connect.
public enum AuthMode: String, Sendable, Equatable, CaseIterable {
    case token
    case password
    case trustedProxy = "trusted-proxy"
    case none
}
