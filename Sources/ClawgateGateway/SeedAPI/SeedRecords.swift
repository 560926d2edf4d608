import ClawgateMesh
import ClawgateProtocol

/// Mesh objects in the seed's snake_case shapes. Times are ISO 8601 UTC with milliseconds.
enum SeedRecords {
    static func iso(_ ms: Int) -> String { ClawLinkRecords.iso(ms) }

    static func now() -> String { iso(Clock.nowMs()) }

    static func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }

    /// `connected`: whether the agent has a live socket (gateway socket or ClawLink `/ws`).
    static func agent(_ view: AgentView, connected: Bool) -> JSONValue {
        [
            "agent_id": .string(view.agentId),
            "name": .string(view.name),
            "namespace": .string(view.namespace),
            "description": .string(view.description),
            "capabilities": strings(view.capabilities),
            "agent_types": strings(view.agentTypes),
            "supported_models": strings(view.models),
            "max_concurrent_tasks": .int(view.maxConcurrentTasks),
            "active_tasks": .int(view.activeTasks),
            "status": .string(view.status.rawValue),
            "connected": .bool(connected),
            "machine": view.machine.map { .string($0) } ?? .null,
            "registered_at": .string(iso(view.registeredAtMs)),
            "last_heartbeat": .string(iso(view.lastHeartbeatMs)),
        ]
    }

    /// A task as `POST /tasks`, `GET /tasks/{id}` and the task messages of `/send` answer it.
    static func task(_ task: MeshTask) -> JSONValue {
        [
            "task_id": .string(task.taskId),
            "client_task_id": task.idempotencyKey.map { .string($0) } ?? .null,
            "namespace": .string(task.namespace),
            "status": .string(task.state.rawValue),
            "task_type": .string(task.type),
            "description": .string(task.description),
            "files": strings(task.files),
            "priority": .string(task.priority.rawValue),
            "deadline": task.deadlineMs.map { .string(iso($0)) } ?? .null,
            "requirements": requirements(task),
            "context": task.context ?? .null,
            "from_agent": .string(task.from),
            "to_agent": task.to.map { .string($0) } ?? .null,
            "assigned_to": task.assignee.map { .string($0) } ?? .null,
            "rejected_by": strings(task.rejectedBy),
            "progress": task.progress.map(progress) ?? .null,
            "result": task.result ?? .null,
            "error": task.error.map { .string($0) } ?? .null,
            "created_at": .string(iso(task.createdAtMs)),
            "updated_at": .string(iso(task.updatedAtMs)),
        ]
    }

    static func progress(_ progress: TaskProgress) -> JSONValue {
        [
            "percentage": progress.percentage.map { .int($0) } ?? .null,
            "message": progress.message.map { .string($0) } ?? .null,
            "updated_at": .string(iso(progress.updatedAtMs)),
        ]
    }

    /// The routing requirements, plus what the mesh does not route on (`model`,
    /// `estimated_cost`, …, and everything of a task sent to a named agent), kept under the
    /// context's `requirements`.
    static func requirements(_ task: MeshTask) -> JSONValue {
        var fields: [String: JSONValue] = task.context?["requirements"]?.objectValue ?? [:]
        if let routing = task.requirements {
            fields["skills"] = strings(routing.skills)
            fields["capabilities"] = strings(routing.capabilities)
            fields["agent_types"] = strings(routing.agentTypes)
        } else {
            // Sent to a named agent: what was asked for is kept as given.
            for key in ["skills", "capabilities", "agent_types"] where fields[key] == nil { fields[key] = [] }
        }
        return .object(fields)
    }

    static func state(_ document: StateDocument) -> JSONValue {
        [
            "key": .string(document.key),
            "namespace": .string(document.namespace),
            "state": document.value,
            "version": .int(document.version),
            "updated_by": .string(document.updatedBy),
            "updated_at": .string(iso(document.updatedAtMs)),
        ]
    }
}
