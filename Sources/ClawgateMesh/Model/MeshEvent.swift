import ClawgateProtocol

/// One entry of the durable mesh event log. `seq` increases monotonically across the gateway,
/// so a client that saw seq N can ask for everything after N and miss nothing.
public struct MeshEvent: Codable, Sendable, Equatable {
    public var seq: Int
    public var namespace: String
    public var type: String
    public var payload: JSONValue
    public var createdAtMs: Int

    public init(seq: Int, namespace: String, type: String, payload: JSONValue, createdAtMs: Int) {
        self.seq = seq
        self.namespace = namespace
        self.type = type
        self.payload = payload
        self.createdAtMs = createdAtMs
    }
}

/// An event before the store gave it a sequence number.
public struct NewMeshEvent: Sendable, Equatable {
    public var namespace: String
    public var type: String
    public var payload: JSONValue
    public var createdAtMs: Int

    public init(namespace: String, type: String, payload: JSONValue, createdAtMs: Int) {
        self.namespace = namespace
        self.type = type
        self.payload = payload
        self.createdAtMs = createdAtMs
    }
}

/// Mesh event types.
public enum MeshEventType {
    public static let agentRegistered = "agent_registered"
    public static let agentUpdated = "agent_updated"
    public static let agentExpired = "agent_expired"
    public static let agentDeregistered = "agent_deregistered"
    public static let taskCreated = "task_created"
    public static let taskOffered = "task_offered"
    public static let taskAccepted = "task_accepted"
    public static let taskRejected = "task_rejected"
    public static let taskUpdated = "task_updated"
    public static let taskCompleted = "task_completed"
    public static let taskFailed = "task_failed"
    public static let taskCanceled = "task_canceled"
    public static let taskExpired = "task_expired"
    public static let taskDeadLettered = "task_dead_lettered"
    public static let knowledgeBroadcast = "knowledge_broadcast"
    public static let fileUpdated = "file_updated"
    public static let fileDeleted = "file_deleted"
    public static let stateChanged = "state_changed"
}
