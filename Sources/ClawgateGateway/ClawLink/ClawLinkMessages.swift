import ClawgateMesh
import ClawgateProtocol

/// Mesh deliveries as the relay's message objects, the same for `/poll` and `/ws` pushes.
enum ClawLinkMessages {
    /// - task offer → `task_delegation` (`message_id` is the task id)
    /// - task result → `task_response` (`message_id` the task id, `response_id` the delivery id,
    ///   stable across redeliveries)
    /// - cancellation → `task_canceled` (ours; the relay has no cancel)
    /// - broadcast → `knowledge_broadcast`; file notice → `file_updated`
    static func message(for delivery: MeshDelivery) -> JSONValue {
        switch delivery.kind {
        case .taskOffer:
            if let task = try? JSONCoding.decode(MeshTask.self, from: delivery.payload) {
                return delegation(task, recipient: delivery.recipient, queuedAtMs: delivery.createdAtMs)
            }
        case .taskResult:
            if let task = try? JSONCoding.decode(MeshTask.self, from: delivery.payload) {
                return response(task, responseId: delivery.deliveryId)
            }
        case .taskCanceled:
            if let task = try? JSONCoding.decode(TaskSummary.self, from: delivery.payload) {
                return [
                    "type": "task_canceled", "message_id": .string(task.taskId), "from_agent": .string(task.from),
                    "to_agent": .string(delivery.recipient), "status": "canceled",
                    "timestamp": .string(ClawLinkRecords.iso(task.updatedAtMs)),
                ]
            }
        case .broadcast:
            if let broadcast = try? JSONCoding.decode(MeshBroadcast.self, from: delivery.payload) {
                return [
                    "type": "knowledge_broadcast", "message_id": .string(broadcast.broadcastId),
                    "from_agent": .string(broadcast.from), "content": .string(broadcast.content),
                    "topic": .string(broadcast.topic), "tags": .array(broadcast.tags.map { .string($0) }),
                    "timestamp": .string(ClawLinkRecords.iso(broadcast.createdAtMs)),
                ]
            }
        case .fileUpdated:
            if var fields = delivery.payload.objectValue {
                fields["type"] = "file_updated"
                let ms = fields["timestamp"]?.intValue ?? delivery.createdAtMs
                fields["timestamp"] = .string(ClawLinkRecords.iso(ms))
                return .object(fields)
            }
        }
        // A payload this version cannot read: hand it over unchanged rather than drop it.
        return [
            "type": .string(delivery.kind.rawValue), "message_id": .string(delivery.taskId ?? delivery.deliveryId),
            "payload": delivery.payload, "timestamp": .string(ClawLinkRecords.iso(delivery.createdAtMs)),
        ]
    }

    static func delegation(_ task: MeshTask, recipient: String, queuedAtMs: Int) -> JSONValue {
        var message: [String: JSONValue] = [
            "type": "task_delegation",
            "message_id": .string(task.taskId),
            "from_agent": .string(task.from),
            "to_agent": .string(task.to ?? recipient),
            "task": .string(task.description.isEmpty ? task.type : task.description),
            "context": task.context ?? [:],
            "priority": .string(task.priority.rawValue),
            "timestamp": .string(ClawLinkRecords.iso(task.createdAtMs)),
            "queued_at": .string(ClawLinkRecords.iso(queuedAtMs)),
        ]
        // Tasks delegated over the gateway socket carry their own type.
        if task.type != ClawLinkRecords.taskType { message["task_type"] = .string(task.type) }
        return .object(message)
    }

    static func response(_ task: MeshTask, responseId: String) -> JSONValue {
        let result: JSONValue = task.state == .completed ? (task.result ?? "") : .string(task.error ?? "")
        return [
            "type": "task_response",
            "message_id": .string(task.taskId),
            "response_id": .string(responseId),
            "from_agent": .string(task.assignee ?? task.to ?? ""),
            "to_agent": .string(task.from),
            "result": result,
            "status": .string(task.state.rawValue),
            "timestamp": .string(ClawLinkRecords.iso(task.updatedAtMs)),
        ]
    }
}
