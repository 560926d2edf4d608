/// Params of the `mesh.*` methods. Results are the mesh's own records (agents, tasks,
/// deliveries, events) encoded as JSON.

/// `mesh.register`: registers an agent and binds this connection to it. With `agentId` and
/// `credential` of an existing agent it re-registers and re-binds (after a reconnect).
public struct MeshRegisterParams: MethodParams, Equatable {
    public static let fields: Set<String> = [
        "agentId", "name", "namespace", "capabilities", "agentTypes", "maxConcurrentTasks", "models", "description",
        "machine", "credential", "topics", "subscribe", "events",
    ]
    public var agentId: String?
    public var name: String?
    public var namespace: String?
    public var capabilities: [String]?
    public var agentTypes: [String]?
    public var maxConcurrentTasks: Int?
    public var models: [String]?
    public var description: String?
    public var machine: String?
    public var credential: String?
    /// Broadcast topics to receive (absent: all).
    public var topics: [String]?
    /// Whether this connection takes pushed deliveries and events (default true). A short-lived
    /// client that only acts (a CLI command) says false and collects with `mesh.poll`.
    public var subscribe: Bool?
    /// Whether this connection wants live `mesh.event` pushes of its namespace's event log
    /// (default false; `mesh.events.since` reads the log at any time).
    public var events: Bool?

    public init(
        agentId: String? = nil, name: String? = nil, namespace: String? = nil, capabilities: [String]? = nil,
        agentTypes: [String]? = nil, maxConcurrentTasks: Int? = nil, credential: String? = nil, topics: [String]? = nil
    ) {
        self.topics = topics
        self.agentId = agentId
        self.name = name
        self.namespace = namespace
        self.capabilities = capabilities
        self.agentTypes = agentTypes
        self.maxConcurrentTasks = maxConcurrentTasks
        self.credential = credential
    }
}

/// `mesh.discover`.
public struct MeshDiscoverParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["namespace", "capabilities", "agentType", "status"]
    public var namespace: String?
    public var capabilities: [String]?
    public var agentType: String?
    public var status: String?
    public init(namespace: String? = nil, capabilities: [String]? = nil, agentType: String? = nil, status: String? = nil) {
        self.namespace = namespace
        self.capabilities = capabilities
        self.agentType = agentType
        self.status = status
    }
}

/// `mesh.capabilities`: "who supports this?"
public struct MeshCapabilitiesParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["namespace", "capabilities", "taskType"]
    public var namespace: String?
    public var capabilities: [String]?
    public var taskType: String?
    public init(namespace: String? = nil, capabilities: [String]? = nil, taskType: String? = nil) {
        self.namespace = namespace
        self.capabilities = capabilities
        self.taskType = taskType
    }
}

/// `mesh.delegate`.
public struct MeshDelegateParams: MethodParams, Equatable {
    public static let fields: Set<String> = [
        "to", "requirements", "type", "description", "context", "files", "priority", "deadline", "idempotencyKey",
    ]
    public var to: String?
    public var requirements: Requirements?
    public var type: String
    public var description: String?
    public var context: JSONValue?
    public var files: [String]?
    public var priority: String?
    /// Epoch milliseconds.
    public var deadline: Int?
    public var idempotencyKey: String?

    public struct Requirements: Codable, Sendable, Equatable {
        public var capabilities: [String]?
        public var skills: [String]?
        public var agentTypes: [String]?
        public init(capabilities: [String]? = nil, skills: [String]? = nil, agentTypes: [String]? = nil) {
            self.capabilities = capabilities
            self.skills = skills
            self.agentTypes = agentTypes
        }
    }

    public init(
        to: String? = nil, requirements: Requirements? = nil, type: String, description: String? = nil,
        context: JSONValue? = nil, priority: String? = nil, deadline: Int? = nil, idempotencyKey: String? = nil
    ) {
        self.to = to
        self.requirements = requirements
        self.type = type
        self.description = description
        self.context = context
        self.priority = priority
        self.deadline = deadline
        self.idempotencyKey = idempotencyKey
    }
}

/// `mesh.accept`, `mesh.cancel`, `mesh.tasks.get`.
public struct MeshTaskParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["taskId"]
    public var taskId: String
    public init(taskId: String) { self.taskId = taskId }
}

/// `mesh.reject`.
public struct MeshRejectParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["taskId", "reason"]
    public var taskId: String
    public var reason: String?
    public init(taskId: String, reason: String? = nil) {
        self.taskId = taskId
        self.reason = reason
    }
}

/// `mesh.update`.
public struct MeshUpdateParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["taskId", "percentage", "message"]
    public var taskId: String
    public var percentage: Int?
    public var message: String?
    public init(taskId: String, percentage: Int? = nil, message: String? = nil) {
        self.taskId = taskId
        self.percentage = percentage
        self.message = message
    }
}

/// `mesh.complete`.
public struct MeshCompleteParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["taskId", "result"]
    public var taskId: String
    public var result: JSONValue?
    public init(taskId: String, result: JSONValue? = nil) {
        self.taskId = taskId
        self.result = result
    }
}

/// `mesh.fail`.
public struct MeshFailParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["taskId", "error"]
    public var taskId: String
    public var error: String
    public init(taskId: String, error: String) {
        self.taskId = taskId
        self.error = error
    }
}

/// `mesh.tasks.list`.
public struct MeshTasksListParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["states", "involving", "limit"]
    public var states: [String]?
    public var involving: String?
    public var limit: Int?
    public init(states: [String]? = nil, involving: String? = nil, limit: Int? = nil) {
        self.states = states
        self.involving = involving
        self.limit = limit
    }
}

/// `mesh.poll`.
public struct MeshPollParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["limit"]
    public var limit: Int?
    public init(limit: Int? = nil) { self.limit = limit }
}

/// `mesh.ack`.
public struct MeshAckParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["deliveryIds"]
    public var deliveryIds: [String]
    public init(deliveryIds: [String]) { self.deliveryIds = deliveryIds }
}

/// `mesh.events.since`.
public struct MeshEventsSinceParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["seq", "limit"]
    public var seq: Int
    public var limit: Int?
    public init(seq: Int, limit: Int? = nil) {
        self.seq = seq
        self.limit = limit
    }
}

/// `mesh.broadcast`.
public struct MeshBroadcastParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["content", "topic", "tags"]
    public var content: String
    public var topic: String?
    public var tags: [String]?
    public init(content: String, topic: String? = nil, tags: [String]? = nil) {
        self.content = content
        self.topic = topic
        self.tags = tags
    }
}

/// `mesh.files.put`. `ifVersion` makes the write conditional (0: must not exist yet).
public struct MeshFilePutParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["key", "content", "fileType", "ifVersion"]
    public var key: String
    public var content: String
    public var fileType: String?
    public var ifVersion: Int?
    public init(key: String, content: String, fileType: String? = nil, ifVersion: Int? = nil) {
        self.key = key
        self.content = content
        self.fileType = fileType
        self.ifVersion = ifVersion
    }
}

/// `mesh.files.get`, `mesh.files.delete`, `mesh.state.get`.
public struct MeshKeyParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["key", "ifVersion"]
    public var key: String
    public var ifVersion: Int?
    public init(key: String, ifVersion: Int? = nil) {
        self.key = key
        self.ifVersion = ifVersion
    }
}

/// `mesh.state.set`. `policy`: last-write-wins (default), merge, reject.
public struct MeshStateSetParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["key", "value", "policy", "ifVersion"]
    public var key: String
    public var value: JSONValue
    public var policy: String?
    public var ifVersion: Int?
    public init(key: String, value: JSONValue, policy: String? = nil, ifVersion: Int? = nil) {
        self.key = key
        self.value = value
        self.policy = policy
        self.ifVersion = ifVersion
    }
}

/// Event names of the mesh on the gateway socket.
public enum MeshGatewayEvent {
    /// A delivery (task offer, result, cancellation) for the agent bound to this connection.
    public static let delivery = "mesh.delivery"
    /// A mesh event log entry of the bound agent's namespace.
    public static let event = "mesh.event"
}
