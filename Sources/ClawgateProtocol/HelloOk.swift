/// The successful answer to `connect`.
public struct HelloOk: Codable, Sendable {
    public var type: String = "hello-ok"
    public var `protocol`: Int
    public var server: ServerInfo
    public var features: Features
    public var snapshot: Snapshot
    public var policy: Policy
    public var auth: HelloAuth?

    public init(protocol: Int, server: ServerInfo, features: Features, snapshot: Snapshot, policy: Policy, auth: HelloAuth?) {
        self.protocol = `protocol`
        self.server = server
        self.features = features
        self.snapshot = snapshot
        self.policy = policy
        self.auth = auth
    }

    public struct ServerInfo: Codable, Sendable {
        public var version: String
        public var connId: String
        public var host: String?

        public init(version: String, connId: String, host: String?) {
            self.version = version
            self.connId = connId
            self.host = host
        }
    }

    /// A conservative list of what this server really implements.
    public struct Features: Codable, Sendable {
        public var methods: [String]
        public var events: [String]
        public var capabilities: [String]?

        public init(methods: [String], events: [String], capabilities: [String]? = nil) {
            self.methods = methods
            self.events = events
            self.capabilities = capabilities
        }
    }

    public struct Policy: Codable, Sendable, Equatable {
        public var maxPayload: Int
        public var maxBufferedBytes: Int
        public var tickIntervalMs: Int

        public init(maxPayload: Int, maxBufferedBytes: Int, tickIntervalMs: Int) {
            self.maxPayload = maxPayload
            self.maxBufferedBytes = maxBufferedBytes
            self.tickIntervalMs = tickIntervalMs
        }
    }

    /// The live, enforced role and scopes of this socket, plus a device token when one was issued.
    public struct HelloAuth: Codable, Sendable, Equatable {
        public var role: String
        public var scopes: [String]
        public var deviceToken: String?
        public var issuedAtMs: Int?

        public init(role: String, scopes: [String], deviceToken: String? = nil, issuedAtMs: Int? = nil) {
            self.role = role
            self.scopes = scopes
            self.deviceToken = deviceToken
            self.issuedAtMs = issuedAtMs
        }
    }
}

/// Gateway state handed to a client at connect time so it needs no extra round trips.
public struct Snapshot: Codable, Sendable {
    public var presence: [PresenceEntry]
    public var health: HealthSnapshot
    public var stateVersion: StateVersion
    public var uptimeMs: Int
    public var configPath: String?
    public var stateDir: String?
    public var sessionDefaults: SessionDefaults?
    public var authMode: String?

    public init(
        presence: [PresenceEntry], health: HealthSnapshot, stateVersion: StateVersion, uptimeMs: Int,
        configPath: String? = nil, stateDir: String? = nil, sessionDefaults: SessionDefaults? = nil, authMode: String? = nil
    ) {
        self.presence = presence
        self.health = health
        self.stateVersion = stateVersion
        self.uptimeMs = uptimeMs
        self.configPath = configPath
        self.stateDir = stateDir
        self.sessionDefaults = sessionDefaults
        self.authMode = authMode
    }

    public struct SessionDefaults: Codable, Sendable, Equatable {
        public var defaultAgentId: String
        public var mainKey: String
        public var mainSessionKey: String
        public var scope: String?

        public init(defaultAgentId: String, mainKey: String, mainSessionKey: String, scope: String?) {
            self.defaultAgentId = defaultAgentId
            self.mainKey = mainKey
            self.mainSessionKey = mainSessionKey
            self.scope = scope
        }
    }
}

/// One connected client (or the gateway itself) as shown to operators.
public struct PresenceEntry: Codable, Sendable, Equatable {
    public var host: String?
    public var ip: String?
    public var version: String?
    public var platform: String?
    public var deviceFamily: String?
    public var modelIdentifier: String?
    public var mode: String?
    public var reason: String?
    public var text: String?
    public var ts: Int
    public var deviceId: String?
    public var roles: [String]?
    public var scopes: [String]?
    public var instanceId: String?

    public init(ts: Int) {
        self.ts = ts
    }
}

/// The `health` RPC result and `health` event payload.
public struct HealthSnapshot: Codable, Sendable, Equatable {
    public var ok: Bool
    public var ts: Int
    public var durationMs: Int
    public var channels: [String: JSONValue]
    public var channelOrder: [String]
    public var channelLabels: [String: String]
    public var heartbeatSeconds: Int
    public var defaultAgentId: String
    /// Hosted agents: `{agentId, name?, isDefault, heartbeat, sessions{path, count, recent[]}}`.
    public var agents: [JSONValue]
    public var sessions: Sessions
    /// Clawgate's additions (absent in the reference): uptime, the agent mesh's counts and
    /// which readiness components fail.
    public var uptimeMs: Int?
    public var mesh: MeshSummary?
    public var readiness: ReadinessSummary?

    public init(
        ok: Bool, ts: Int, durationMs: Int, heartbeatSeconds: Int, defaultAgentId: String, agents: [JSONValue] = [],
        sessions: Sessions
    ) {
        self.ok = ok
        self.ts = ts
        self.durationMs = durationMs
        self.channels = [:]
        self.channelOrder = []
        self.channelLabels = [:]
        self.heartbeatSeconds = heartbeatSeconds
        self.defaultAgentId = defaultAgentId
        self.agents = agents
        self.sessions = sessions
    }

    public struct Sessions: Codable, Sendable, Equatable {
        public var path: String
        public var count: Int
        public var recent: [JSONValue]

        public init(path: String, count: Int, recent: [JSONValue] = []) {
            self.path = path
            self.count = count
            self.recent = recent
        }
    }
}
