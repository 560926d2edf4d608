import ClawgateMesh
import ClawgateProtocol

/// `GET /api/openclaw/messages`: the namespace's mesh event log as seed messages.
///
/// Each event becomes an envelope with the event's `seq` and mesh type (`event`) added:
/// - `agent_registered`, `agent_updated` → `register` (agent_id: the agent)
/// - `task_created`, `task_offered` → `task_offer` (the delegator)
/// - `task_accepted` → `task_accept`, `task_updated` → `task_update` (the assignee)
/// - `task_rejected` → `task_reject` (the named recipient; the gateway for a task routed by
///   requirements, which goes back to routing)
/// - `task_completed`, `task_failed` → `task_complete` (the assignee), `task_canceled` →
///   `task_complete` (the delegator), `task_expired`, `task_dead_lettered` → `task_complete`
///   (the gateway); the payload's `status` tells which
/// - `state_changed` → `state_sync` (the writer)
/// - anything else (`knowledge_broadcast`, `file_updated`, `agent_expired`, …) keeps its mesh
///   type as `message_type`.
enum SeedMessages {
    static let defaultLimit = 50
    static let maxLimit = 500
    /// What `status=failed` keeps.
    static let failedTypes: Set<String> = [MeshEventType.taskFailed, MeshEventType.taskDeadLettered, MeshEventType.taskExpired]

    static func message(for event: MeshEvent) -> JSONValue {
        let (type, agentId, payload) = translate(event)
        return SeedEnvelope.make(
            type, agentId: agentId, namespace: event.namespace, timestampMs: event.createdAtMs, payload: payload,
            extra: ["seq": .int(event.seq), "event": .string(event.type)]
        )
    }

    private static func translate(_ event: MeshEvent) -> (type: String, agentId: String, payload: JSONValue) {
        let gateway = SeedAPI.gatewayAgentId
        switch event.type {
        case MeshEventType.agentRegistered, MeshEventType.agentUpdated:
            let agentId = event.payload["agentId"]?.stringValue ?? gateway
            return (
                SeedMessageType.register.rawValue, agentId,
                ["name": event.payload["name"] ?? .null, "updated": .bool(event.type == MeshEventType.agentUpdated)]
            )
        case MeshEventType.stateChanged:
            return (
                SeedMessageType.stateSync.rawValue, event.payload["by"]?.stringValue ?? gateway,
                [
                    "key": event.payload["key"] ?? .null, "version": event.payload["version"] ?? .null,
                    "conflict_policy": event.payload["policy"] ?? .null,
                ]
            )
        default:
            break
        }
        if event.type.hasPrefix("task_"), let task = try? JSONCoding.decode(TaskSummary.self, from: event.payload) {
            let assignee = task.assignee ?? gateway
            switch event.type {
            case MeshEventType.taskCreated, MeshEventType.taskOffered:
                return (SeedMessageType.taskOffer.rawValue, task.from, taskPayload(task))
            case MeshEventType.taskAccepted:
                return (SeedMessageType.taskAccept.rawValue, assignee, taskPayload(task))
            case MeshEventType.taskRejected:
                return (SeedMessageType.taskReject.rawValue, task.to ?? gateway, taskPayload(task))
            case MeshEventType.taskUpdated:
                return (SeedMessageType.taskUpdate.rawValue, assignee, taskPayload(task))
            case MeshEventType.taskCompleted, MeshEventType.taskFailed:
                return (SeedMessageType.taskComplete.rawValue, assignee, taskPayload(task))
            case MeshEventType.taskCanceled:
                return (SeedMessageType.taskComplete.rawValue, task.from, taskPayload(task))
            case MeshEventType.taskExpired, MeshEventType.taskDeadLettered:
                return (SeedMessageType.taskComplete.rawValue, gateway, taskPayload(task))
            default:
                return (event.type, gateway, taskPayload(task))
            }
        }
        // Broadcasts, files, agent expiry: the mesh's own words.
        var payload = event.payload.objectValue ?? ["value": event.payload]
        payload["type"] = nil
        let agentId = (payload["from"] ?? payload["last_editor"] ?? payload["agentId"])?.stringValue ?? gateway
        return (event.type, agentId, .object(payload))
    }

    /// A task event's payload (the result itself is on `GET /tasks/{id}`).
    static func taskPayload(_ task: TaskSummary) -> JSONValue {
        [
            "task_id": .string(task.taskId),
            "task_type": .string(task.type),
            "status": .string(task.state.rawValue),
            "from_agent": .string(task.from),
            "to_agent": task.to.map { .string($0) } ?? .null,
            "assigned_to": task.assignee.map { .string($0) } ?? .null,
            "priority": .string(task.priority.rawValue),
            "progress": task.progress.map(SeedRecords.progress) ?? .null,
            "error": task.error.map { .string($0) } ?? .null,
        ]
    }
}

extension SeedAPI {
    /// `limit` (1–500, default 50) newest events of the namespace, oldest first;
    /// `status=failed` keeps failed, dead-lettered and expired tasks.
    func messages(namespace requested: String?, limit rawLimit: String?, status: String?) async throws -> JSONValue {
        let namespace = try namespace(requested)
        var limit = SeedMessages.defaultLimit
        if let rawLimit {
            guard let parsed = Int(rawLimit), (1...SeedMessages.maxLimit).contains(parsed) else {
                throw ClawLinkError.badRequest("limit must be a whole number from 1 to \(SeedMessages.maxLimit), not \(rawLimit)")
            }
            limit = parsed
        }
        var types: Set<String>?
        switch status {
        case nil, "", "all": types = nil
        case "failed": types = SeedMessages.failedTypes
        case let other?: throw ClawLinkError.badRequest("status must be failed (or all), not \(other)")
        }
        let events = try await mesh.recentEvents(namespace: namespace, limit: limit, types: types)
        let messages = events.reversed().map(SeedMessages.message(for:))
        return [
            "namespace": .string(namespace),
            "messages": .array(messages),
            "count": .int(messages.count),
            "last_seq": events.first.map { .int($0.seq) } ?? .null,
        ]
    }
}
