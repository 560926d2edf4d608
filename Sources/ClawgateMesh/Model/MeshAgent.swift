import ClawgateProtocol

/// An agent system registered with the mesh: what it can do and how busy it may get.
public struct MeshAgent: Codable, Sendable, Equatable {
    public var agentId: String
    public var namespace: String
    public var name: String
    public var capabilities: [String]
    public var agentTypes: [String]
    public var maxConcurrentTasks: Int
    public var models: [String]
    public var description: String
    public var machine: String?
    public var registeredAtMs: Int
    public var lastHeartbeatMs: Int
    /// SHA-256 (hex) of the agent's credential; the credential itself is shown once at registration.
    public var credentialHash: String
    /// Broadcast topics the agent wants; nil or empty: every broadcast of its namespace.
    public var topics: [String]?

    public init(
        agentId: String, namespace: String, name: String, capabilities: [String], agentTypes: [String],
        maxConcurrentTasks: Int, models: [String], description: String, machine: String?, registeredAtMs: Int,
        lastHeartbeatMs: Int, credentialHash: String, topics: [String]? = nil
    ) {
        self.agentId = agentId
        self.namespace = namespace
        self.name = name
        self.capabilities = capabilities
        self.agentTypes = agentTypes
        self.maxConcurrentTasks = maxConcurrentTasks
        self.models = models
        self.description = description
        self.machine = machine
        self.registeredAtMs = registeredAtMs
        self.lastHeartbeatMs = lastHeartbeatMs
        self.credentialHash = credentialHash
        self.topics = topics
    }

    /// Whether a broadcast on `topic` is for this agent.
    public func wants(topic: String) -> Bool {
        guard let topics, !topics.isEmpty else { return true }
        return topics.contains(topic)
    }

    public func status(nowMs: Int, staleAfterMs: Int) -> AgentStatus {
        nowMs - lastHeartbeatMs <= staleAfterMs ? .online : .stale
    }

    /// Whether the agent offers every one of `required` (case-insensitive).
    public func supports(all required: [String]) -> Bool {
        let mine = Set(capabilities.map { $0.lowercased() })
        return required.allSatisfy { mine.contains($0.lowercased()) }
    }
}

/// `online` (heartbeat within the stale window), `stale` (silent longer), `offline` (gone:
/// deregistered or expired after the expiry window).
public enum AgentStatus: String, Codable, Sendable, CaseIterable {
    case online
    case stale
    case offline
}
