import ClawgateProtocol

/// A delegated piece of work and where it stands.
public struct MeshTask: Codable, Sendable, Equatable {
    public var taskId: String
    public var namespace: String
    /// The delegating agent (receives the result).
    public var from: String
    /// A named recipient, or nil when routed by `requirements`.
    public var to: String?
    public var requirements: TaskRequirements?
    public var type: String
    public var description: String
    public var context: JSONValue?
    public var files: [String]
    public var priority: TaskPriority
    public var deadlineMs: Int?
    public var idempotencyKey: String?
    public var state: TaskState
    /// The agent the task is offered to or accepted by.
    public var assignee: String?
    /// Agents that rejected it (never offered again).
    public var rejectedBy: [String]
    /// Offer deliveries made so far (for the current assignee).
    public var attempts: Int
    public var progress: TaskProgress?
    public var result: JSONValue?
    public var error: String?
    public var createdAtMs: Int
    public var updatedAtMs: Int
    /// Optimistic-concurrency version, bumped on every change.
    public var version: Int

    public var isRoutedByRequirements: Bool { to == nil }
}

/// What an agent must offer to be picked for a task routed by requirements.
public struct TaskRequirements: Codable, Sendable, Equatable {
    public var capabilities: [String]
    public var skills: [String]
    public var agentTypes: [String]

    public init(capabilities: [String] = [], skills: [String] = [], agentTypes: [String] = []) {
        self.capabilities = capabilities
        self.skills = skills
        self.agentTypes = agentTypes
    }

    /// Capabilities and skills are matched together against the agent's capabilities.
    public var requiredCapabilities: [String] { capabilities + skills }
}

public enum TaskPriority: String, Codable, Sendable, CaseIterable, Comparable {
    case low, normal, high, urgent

    var rank: Int {
        switch self {
        case .low: 0
        case .normal: 1
        case .high: 2
        case .urgent: 3
        }
    }

    public static func < (lhs: TaskPriority, rhs: TaskPriority) -> Bool { lhs.rank < rhs.rank }
}

public struct TaskProgress: Codable, Sendable, Equatable {
    public var percentage: Int?
    public var message: String?
    public var updatedAtMs: Int

    public init(percentage: Int?, message: String?, updatedAtMs: Int) {
        self.percentage = percentage
        self.message = message
        self.updatedAtMs = updatedAtMs
    }
}
