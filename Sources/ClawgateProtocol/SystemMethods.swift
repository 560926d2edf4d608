/// `health` params.
public struct HealthParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["probe"]
    public var probe: Bool?
    public init(probe: Bool? = nil) { self.probe = probe }
}

/// `logs.tail` params: a byte cursor into the gateway's own log file.
public struct LogsTailParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["cursor", "limit", "maxBytes"]
    public var cursor: Int?
    public var limit: Int?
    public var maxBytes: Int?

    public init(cursor: Int? = nil, limit: Int? = nil, maxBytes: Int? = nil) {
        self.cursor = cursor
        self.limit = limit
        self.maxBytes = maxBytes
    }
}

/// `logs.tail` result. `cursor` is the byte offset to pass next time to read only new lines.
public struct LogsTailResult: Codable, Sendable, Equatable {
    public var file: String
    public var cursor: Int
    public var size: Int
    public var lines: [String]
    public var truncated: Bool?
    public var reset: Bool?

    public init(file: String, cursor: Int, size: Int, lines: [String], truncated: Bool?, reset: Bool?) {
        self.file = file
        self.cursor = cursor
        self.size = size
        self.lines = lines
        self.truncated = truncated
        self.reset = reset
    }
}

/// `status` result. The top level has the reference gateway's shape (`heartbeat`,
/// `channelSummary`, `queuedSystemEvents`, `sessions`) so dashboards written for it keep working;
/// Clawgate's own figures are under `gateway`.
public struct StatusResult: Codable, Sendable, Equatable {
    public var heartbeat: Heartbeat
    public var channelSummary: [String]
    public var queuedSystemEvents: [String]
    public var sessions: Sessions
    public var gateway: GatewayStatus

    public init(heartbeat: Heartbeat, sessions: Sessions, gateway: GatewayStatus) {
        self.heartbeat = heartbeat
        self.channelSummary = []
        self.queuedSystemEvents = []
        self.sessions = sessions
        self.gateway = gateway
    }

    public struct Heartbeat: Codable, Sendable, Equatable {
        public var defaultAgentId: String
        public var agents: [JSONValue]
        public init(defaultAgentId: String, agents: [JSONValue]) {
            self.defaultAgentId = defaultAgentId
            self.agents = agents
        }
    }

    public struct Sessions: Codable, Sendable, Equatable {
        public var paths: [String]
        public var count: Int
        public var defaults: Defaults
        public var recent: [JSONValue]
        public var byAgent: [JSONValue]

        public init(paths: [String], count: Int, defaults: Defaults, recent: [JSONValue], byAgent: [JSONValue]) {
            self.paths = paths
            self.count = count
            self.defaults = defaults
            self.recent = recent
            self.byAgent = byAgent
        }

        public struct Defaults: Codable, Sendable, Equatable {
            public var model: String?
            public var contextTokens: Int?
            public init(model: String?, contextTokens: Int?) {
                self.model = model
                self.contextTokens = contextTokens
            }
        }
    }

    public struct GatewayStatus: Codable, Sendable, Equatable {
        public var ok: Bool
        public var version: String
        public var uptimeMs: Int
        public var startedAt: Int
        public var `protocol`: ProtocolRange
        public var authMode: String
        public var bind: String
        public var port: Int
        public var connections: Connections
        public var presenceCount: Int
        public var pairing: Pairing
        /// Only for admins: where the gateway keeps its files.
        public var stateDir: String?
        public var configPath: String?
        /// Only for admins: config reload mode, applied hash, last refused edit, pending restart.
        public var configReload: ConfigReloadStatus?
        /// Hosted agents and mesh agents, counted.
        public var agents: AgentCounts?
        /// The agent mesh: agents, tasks by state, dead letters.
        public var mesh: MeshSummary?
        /// What `/ready` says, with the failing components.
        public var readiness: ReadinessSummary?

        public init(
            ok: Bool, version: String, uptimeMs: Int, startedAt: Int, protocol: ProtocolRange, authMode: String, bind: String,
            port: Int, connections: Connections, presenceCount: Int, pairing: Pairing, stateDir: String?, configPath: String?
        ) {
            self.ok = ok
            self.version = version
            self.uptimeMs = uptimeMs
            self.startedAt = startedAt
            self.protocol = `protocol`
            self.authMode = authMode
            self.bind = bind
            self.port = port
            self.connections = connections
            self.presenceCount = presenceCount
            self.pairing = pairing
            self.stateDir = stateDir
            self.configPath = configPath
        }
    }

    public struct ProtocolRange: Codable, Sendable, Equatable {
        public var min: Int
        public var max: Int
        public init(min: Int, max: Int) {
            self.min = min
            self.max = max
        }
    }

    public struct Connections: Codable, Sendable, Equatable {
        public var total: Int
        public var operators: Int
        public var nodes: Int
        public var pending: Int
        public init(total: Int, operators: Int, nodes: Int, pending: Int) {
            self.total = total
            self.operators = operators
            self.nodes = nodes
            self.pending = pending
        }
    }

    public struct Pairing: Codable, Sendable, Equatable {
        public var paired: Int
        public var pending: Int
        public init(paired: Int, pending: Int) {
            self.paired = paired
            self.pending = pending
        }
    }
}

/// The `details` of a missing-scope error in protocol 4 (`FORBIDDEN`).
public struct MissingScopeDetails: Codable, Sendable, Equatable {
    public var code: String = "MISSING_SCOPE"
    public var missingScope: String
    public var requiredScopes: [String]

    public init(missingScope: String, requiredScopes: [String]) {
        self.missingScope = missingScope
        self.requiredScopes = requiredScopes
    }
}
