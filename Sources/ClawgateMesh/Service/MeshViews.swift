import ClawgateProtocol

/// An agent as other agents and operators see it: no credential, plus live status and load.
public struct AgentView: Codable, Sendable, Equatable {
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
    public var status: AgentStatus
    /// Tasks offered to or held by the agent right now.
    public var activeTasks: Int

    init(_ agent: MeshAgent, status: AgentStatus, activeTasks: Int) {
        self.agentId = agent.agentId
        self.namespace = agent.namespace
        self.name = agent.name
        self.capabilities = agent.capabilities
        self.agentTypes = agent.agentTypes
        self.maxConcurrentTasks = agent.maxConcurrentTasks
        self.models = agent.models
        self.description = agent.description
        self.machine = agent.machine
        self.registeredAtMs = agent.registeredAtMs
        self.lastHeartbeatMs = agent.lastHeartbeatMs
        self.status = status
        self.activeTasks = activeTasks
    }
}

/// What task events carry: enough to follow a task without copying its (possibly large) context.
public struct TaskSummary: Codable, Sendable, Equatable {
    public var taskId: String
    public var namespace: String
    public var state: TaskState
    public var from: String
    public var to: String?
    public var assignee: String?
    public var type: String
    public var priority: TaskPriority
    public var progress: TaskProgress?
    public var error: String?
    public var updatedAtMs: Int

    public init(_ task: MeshTask) {
        self.taskId = task.taskId
        self.namespace = task.namespace
        self.state = task.state
        self.from = task.from
        self.to = task.to
        self.assignee = task.assignee
        self.type = task.type
        self.priority = task.priority
        self.progress = task.progress
        self.error = task.error
        self.updatedAtMs = task.updatedAtMs
    }
}

/// Input of `register`. On a re-registration, a field left nil keeps its stored value.
public struct AgentRegistration: Sendable, Equatable {
    public var agentId: String?
    public var name: String?
    public var namespace: String?
    public var capabilities: [String]?
    public var agentTypes: [String]?
    public var maxConcurrentTasks: Int?
    public var models: [String]?
    public var description: String?
    public var machine: String?
    public var topics: [String]?

    public init(
        agentId: String? = nil, name: String? = nil, namespace: String? = nil, capabilities: [String]? = nil,
        agentTypes: [String]? = nil, maxConcurrentTasks: Int? = nil, models: [String]? = nil, description: String? = nil,
        machine: String? = nil, topics: [String]? = nil
    ) {
        self.topics = topics
        self.agentId = agentId
        self.name = name
        self.namespace = namespace
        self.capabilities = capabilities
        self.agentTypes = agentTypes
        self.maxConcurrentTasks = maxConcurrentTasks
        self.models = models
        self.description = description
        self.machine = machine
    }
}

/// Input of `delegate`.
public struct DelegateRequest: Sendable, Equatable {
    public var to: String?
    public var requirements: TaskRequirements?
    public var type: String
    public var description: String
    public var context: JSONValue?
    public var files: [String]
    public var priority: TaskPriority
    public var deadlineMs: Int?
    public var idempotencyKey: String?

    public init(
        to: String? = nil, requirements: TaskRequirements? = nil, type: String, description: String = "",
        context: JSONValue? = nil, files: [String] = [], priority: TaskPriority = .normal, deadlineMs: Int? = nil,
        idempotencyKey: String? = nil
    ) {
        self.to = to
        self.requirements = requirements
        self.type = type
        self.description = description
        self.context = context
        self.files = files
        self.priority = priority
        self.deadlineMs = deadlineMs
        self.idempotencyKey = idempotencyKey
    }
}

/// Where live deliveries and events go (the transports' connections). Optional: without a sink
/// everything waits for polls.
public protocol MeshPushSink: Sendable {
    /// Whether `agentId` has a live connection that takes pushes right now.
    func isConnected(agentId: String) -> Bool
    /// Hands a committed delivery to the recipient's live connection.
    func push(_ delivery: MeshDelivery)
    /// Tells live subscribers about committed events.
    func publish(_ events: [MeshEvent])
}
