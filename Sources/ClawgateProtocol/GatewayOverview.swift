/// The agent mesh in numbers, for the `health` and `status` RPCs.
public struct MeshSummary: Codable, Sendable, Equatable {
    public var agents: Agents
    /// Tasks kept in the store, by state (every state is present, zeros included).
    public var tasks: [String: Int]
    /// Tasks that ended `dead_lettered` (offer unanswered after every delivery attempt).
    public var deadLetters: Int

    public init(agents: Agents, tasks: [String: Int], deadLetters: Int) {
        self.agents = agents
        self.tasks = tasks
        self.deadLetters = deadLetters
    }

    /// Registered mesh agents: `online` (heartbeat within the stale window), `stale` (silent
    /// longer), `connected` (holding a live gateway or ClawLink socket now).
    public struct Agents: Codable, Sendable, Equatable {
        public var total: Int
        public var online: Int
        public var stale: Int
        public var connected: Int

        public init(total: Int, online: Int, stale: Int, connected: Int) {
            self.total = total
            self.online = online
            self.stale = stale
            self.connected = connected
        }
    }
}

/// Hosted agents (configured, answering through LLM providers) and mesh agents, counted.
public struct AgentCounts: Codable, Sendable, Equatable {
    public var hosted: Int
    public var mesh: MeshSummary.Agents

    public init(hosted: Int, mesh: MeshSummary.Agents) {
        self.hosted = hosted
        self.mesh = mesh
    }
}

/// Whether the gateway is ready, and which components fail (`store`, `provider:<id>`,
/// `config-reload`, `starting`, `shutting-down`).
public struct ReadinessSummary: Codable, Sendable, Equatable {
    public var ready: Bool
    public var failing: [String]

    public init(ready: Bool, failing: [String]) {
        self.ready = ready
        self.failing = failing
    }
}
