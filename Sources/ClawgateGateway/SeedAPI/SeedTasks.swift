import ClawgateMesh
import ClawgateProtocol
import Foundation

/// The task messages (`task_offer`, `task_accept`, `task_reject`, `task_update`,
/// `task_complete`) and the task API (`POST /tasks`, `GET /tasks/{id}`). The envelope's agent
/// acts: it delegates an offer, and answers as the assignee.
extension SeedAPI {
    /// Tasks searched for a client's own `task_id` (its idempotency key) among those the agent
    /// delegated or is assigned, newest first.
    static let clientTaskIdSearch = 1000

    /// `task_offer` → mesh `delegate` from the envelope's agent.
    func offer(_ message: SeedEnvelope, namespace: String) async throws -> JSONValue {
        _ = try await requireAgent(message.agentId, namespace: namespace)
        let task = try await delegate(SeedTaskRequest.delegation(message.payload), from: message.agentId, namespace: namespace)
        return answer(task)
    }

    /// `task_accept` (`task_id`; the seed's `assigned_agent` and `estimated_duration` are not
    /// stored) → mesh `accept`.
    func accept(_ message: SeedEnvelope, namespace: String) async throws -> JSONValue {
        let task = try await target(message, namespace: namespace)
        return answer(try await mesh.accept(taskId: task.taskId, by: message.agentId))
    }

    /// `task_reject` (`task_id`, `reason`) → mesh `reject`: a task routed by requirements goes
    /// to another matching agent, one sent to a named agent ends `rejected`.
    func reject(_ message: SeedEnvelope, namespace: String) async throws -> JSONValue {
        let task = try await target(message, namespace: namespace)
        let reason = try message.payload.string("reason")
        return answer(try await mesh.reject(taskId: task.taskId, by: message.agentId, reason: reason))
    }

    /// `task_update` (`task_id`, `percentage` (or `progress`) 0–100, `message`) → mesh `update`.
    func update(_ message: SeedEnvelope, namespace: String) async throws -> JSONValue {
        let task = try await target(message, namespace: namespace)
        let payload = message.payload
        let percentage = try payload.roundedNumber("percentage") ?? payload.roundedNumber("progress")
        if let percentage, !(0...100).contains(percentage) {
            throw ClawLinkError.badRequest("percentage must be between 0 and 100")
        }
        let text = try payload.string("message")
        return answer(try await mesh.update(taskId: task.taskId, by: message.agentId, percentage: percentage, message: text))
    }

    /// `task_complete` (`task_id`, `result`; `status` `failed` or `error` with `error`) → mesh
    /// `complete` or `fail`. A task still offered to the agent is accepted first (the seed's
    /// synchronous completion).
    func complete(_ message: SeedEnvelope, namespace: String) async throws -> JSONValue {
        let payload = message.payload
        let status = try payload.string("status") ?? "completed"
        guard ["completed", "failed", "error"].contains(status) else {
            throw ClawLinkError.badRequest("status must be completed, failed or error, not \(status)")
        }
        let task = try await target(message, namespace: namespace)
        let result = payload.value("result")
        var failure: String?
        if status != "completed" {
            failure = try payload.string("error") ?? result.map(Self.text) ?? "failed"
        }
        // Checked before the accept, so that a refused result does not leave the task accepted.
        let limit = mesh.settings.maxMessageBytes
        if let result, ((try? JSONCoding.encode(result).count) ?? 0) > limit {
            throw MeshError(.tooLarge, "result is larger than \(limit) bytes")
        }
        if let failure, failure.utf8.count > limit { throw MeshError(.tooLarge, "error is larger than \(limit) bytes") }
        if task.state == .offered && task.assignee == message.agentId {
            _ = try await mesh.accept(taskId: task.taskId, by: message.agentId)
        }
        if let failure {
            return answer(try await mesh.fail(taskId: task.taskId, by: message.agentId, error: failure))
        }
        return answer(try await mesh.complete(taskId: task.taskId, by: message.agentId, result: result))
    }

    // MARK: task API

    /// `POST /tasks`: the task fields of a `task_offer`, the delegating agent in `agent_id` (or
    /// `from_agent`), `namespace` optional. Answers the task (201).
    func createTask(_ body: ClawLinkBody) async throws -> JSONValue {
        guard let from = try body.string(anyOf: ["agent_id", "from_agent"]) else {
            throw ClawLinkError.badRequest("agent_id (or from_agent) is required: the delegating agent")
        }
        let namespace = try namespace(try body.string("namespace"))
        _ = try await requireAgent(from, namespace: namespace, role: "agent")
        let task = try await delegate(SeedTaskRequest.delegation(body), from: from, namespace: namespace)
        return SeedRecords.task(task)
    }

    /// `GET /tasks/{id}`: by the gateway's task id; with `agent_id` also by that agent's own
    /// `task_id`.
    func task(_ taskId: String, namespace requested: String?, agentId: String?) async throws -> JSONValue {
        let namespace = try namespace(requested)
        if let agentId {
            let agent = try await requireAgent(agentId, namespace: namespace)
            return SeedRecords.task(try await resolve(taskId, agent: agent))
        }
        return SeedRecords.task(try await mesh.task(taskId, namespace: namespace))
    }

    // MARK: helpers

    private func delegate(_ request: DelegateRequest, from: String, namespace: String) async throws -> MeshTask {
        if let to = request.to { _ = try await requireAgent(to, namespace: namespace, role: "to_agent") }
        return try await mesh.delegate(request, from: from)
    }

    /// The task a message answers: the envelope's agent must be of the namespace, the payload
    /// must name the task.
    private func target(_ message: SeedEnvelope, namespace: String) async throws -> MeshTask {
        let agent = try await requireAgent(message.agentId, namespace: namespace)
        guard let taskId = try message.payload.string("task_id") else { throw ClawLinkError.badRequest("payload.task_id is required") }
        return try await resolve(taskId, agent: agent)
    }

    /// A task by the gateway's id, else by the client's own `task_id` among the agent's tasks.
    func resolve(_ taskId: String, agent: MeshAgent) async throws -> MeshTask {
        do {
            return try await mesh.task(taskId, namespace: agent.namespace)
        } catch let error as MeshError where error.kind == .notFound {
            let involved = try await mesh.tasks(
                TaskQuery(namespace: agent.namespace, involving: agent.agentId, limit: Self.clientTaskIdSearch)
            )
            if let match = involved.first(where: { $0.idempotencyKey == taskId }) { return match }
            throw ClawLinkError.notFound("unknown task \(taskId)")
        }
    }

    private func answer(_ task: MeshTask) -> JSONValue {
        ["status": .string(task.state.rawValue), "task_id": .string(task.taskId), "task": SeedRecords.task(task)]
    }

    static func text(_ value: JSONValue) -> String {
        value.stringValue ?? String(decoding: (try? JSONCoding.encode(value)) ?? Data(), as: UTF8.self)
    }
}
