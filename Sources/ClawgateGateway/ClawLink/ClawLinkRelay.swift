import ClawgateMesh
import ClawgateProtocol
import Foundation

/// The ClawLink relay operations, mapped onto the agent mesh (namespace `default`). Shared by
/// the HTTP routes and the `/ws/{agent_id}` push socket. Callers are authenticated by the
/// gateway's shared secret only, so they may act for any agent id of the namespace.
struct ClawLinkRelay: Sendable {
    let gateway: GatewayCore

    var mesh: MeshService { gateway.mesh }
    var hub: ClawLinkHub { gateway.meshConnections.clawLink }
    var namespace: String { ClawLinkRecords.namespace }
    /// Deliveries handed out per poll (more wait for the next poll).
    static let pollLimit = 100

    // MARK: service info

    func info() async throws -> JSONValue {
        let online = try await mesh.discover(namespace: namespace, status: .online).count
        let broadcasts = try await mesh.broadcasts(namespace: namespace, limit: Int.max).count
        let files = try await mesh.files(namespace: namespace).count
        return [
            "service": "ClawLink Relay (Clawgate)",
            "version": .string(ClawLinkRecords.apiVersion),
            "gateway_version": .string(GatewaySettings.version),
            "auth_required": .bool(gateway.settings.authMode != .none),
            "agents_online": .int(online),
            "total_broadcasts": .int(broadcasts),
            "shared_files": .int(files),
            "note": """
                ClawLink relay API served by Clawgate over its agent mesh: agents, tasks, messages and \
                files are stored durably; delivery is at least once (a poll acknowledges what the \
                previous poll returned; unacknowledged messages come back after their lease).
                """,
            "endpoints": [
                "GET /": "service info",
                "POST /register": "register an agent {agent_id?, name?, capabilities[], machine?, description?}",
                "GET /discover": "online agents",
                "POST /heartbeat": "{agent_id}",
                "POST /delegate": "{from_agent, to_agent, task, context?, priority?}",
                "POST /respond": "{from_agent, to_agent, message_id, result, status?}",
                "POST /broadcast": "{from_agent, content, topic?, tags?}",
                "GET /poll/{agent_id}": "messages for the agent (also a heartbeat)",
                "POST /files": "{file_key, content, agent_id, file_type?}",
                "GET /files": "shared files (metadata)",
                "GET /files/{file_key}": "one shared file",
                "GET /ws/{agent_id}": "WebSocket: live messages for the agent",
            ],
            "server_time": .string(ClawLinkRecords.now()),
        ]
    }

    // MARK: agents

    func register(_ body: ClawLinkBody, peer: String?) async throws -> JSONValue {
        let agentId = try body.string("agent_id") ?? ClawLinkRecords.newAgentId()
        let existing = try await mesh.agent(agentId)
        if let existing, existing.namespace != namespace {
            throw ClawLinkError(
                .conflict, "agent id \(agentId) is registered in namespace \(existing.namespace); ClawLink serves namespace \(namespace)"
            )
        }
        // What ClawLink has no words for (agent types, models, concurrency, topics) is kept.
        let registration = AgentRegistration(
            agentId: agentId, name: try body.string("name"), namespace: namespace, capabilities: try body.strings("capabilities"),
            agentTypes: existing?.agentTypes ?? [], maxConcurrentTasks: existing?.maxConcurrentTasks,
            models: existing?.models ?? [], description: try body.string("description") ?? "",
            machine: try body.string("machine") ?? peer, topics: existing?.topics
        )
        let (agent, credential) = try await mesh.register(registration, trustedCaller: true)
        var response: [String: JSONValue] = [
            "status": "registered",
            "agent": ClawLinkRecords.agent(try await mesh.view(agentId: agent.agentId)),
            "server_time": .string(ClawLinkRecords.now()),
        ]
        // The per-agent credential (new agents only) for the gateway socket's `mesh.register`.
        if let credential { response["credential"] = .string(credential) }
        return .object(response)
    }

    func discover() async throws -> JSONValue {
        let agents = try await mesh.discover(namespace: namespace, status: .online)
        return [
            "agents": .array(agents.map(ClawLinkRecords.agent)), "count": .int(agents.count),
            "server_time": .string(ClawLinkRecords.now()),
        ]
    }

    func heartbeat(_ body: ClawLinkBody) async throws -> JSONValue {
        guard let agentId = try body.string("agent_id") else { throw ClawLinkError.badRequest("agent_id is required") }
        guard try await knownAgent(agentId) != nil else { return ["status": "unknown_agent"] }
        _ = try await mesh.heartbeat(agentId: agentId)
        return ["status": "ok"]
    }

    /// An agent of the ClawLink namespace, or nil.
    func knownAgent(_ agentId: String) async throws -> MeshAgent? {
        guard let agent = try await mesh.agent(agentId), agent.namespace == namespace else { return nil }
        return agent
    }

    func requireAgent(_ agentId: String, role: String? = nil) async throws -> MeshAgent {
        guard let agent = try await knownAgent(agentId) else {
            throw ClawLinkError.notFound("unknown agent \(role.map { "\($0) " } ?? "")\(agentId) (register it first)")
        }
        return agent
    }

    // MARK: tasks

    /// `from` nil: the body's `from_agent` (HTTP); the socket passes its own agent.
    func delegate(_ body: ClawLinkBody, from socketAgent: String? = nil) async throws -> JSONValue {
        let from = try socketAgent ?? body.string("from_agent")
        guard let from, let to = try body.string("to_agent"), let task = try body.string("task") else {
            throw ClawLinkError.badRequest(socketAgent == nil ? "from_agent, to_agent, and task are required" : "to_agent and task are required")
        }
        let priority = try Self.priority(try body.string("priority"))
        _ = try await requireAgent(from, role: "from_agent")
        _ = try await requireAgent(to, role: "to_agent")
        let created = try await mesh.delegate(
            DelegateRequest(to: to, type: ClawLinkRecords.taskType, description: task, context: body.value("context"), priority: priority),
            from: from
        )
        return [
            "status": "delegated", "delivery": .string(delivery(to)), "message_id": .string(created.taskId),
        ]
    }

    /// Answers a delegation: accepts the offered task if needed, then completes it (or fails it
    /// for status `failed` / `error`).
    func respond(_ body: ClawLinkBody, from socketAgent: String? = nil) async throws -> JSONValue {
        let from = try socketAgent ?? body.string("from_agent")
        let to = try body.string("to_agent")
        let taskId = try body.string("message_id")
        let result = body.value("result")
        var missing: [String] = []
        if from == nil { missing.append("from_agent") }
        if to == nil { missing.append("to_agent") }
        if taskId == nil { missing.append("message_id") }
        if result == nil { missing.append("result") }
        guard let from, let to, let taskId, let result, missing.isEmpty else {
            throw ClawLinkError.badRequest("missing required field\(missing.count == 1 ? "" : "s"): \(missing.joined(separator: ", "))")
        }
        let status = try body.string("status") ?? "completed"
        guard ["completed", "failed", "error"].contains(status) else {
            throw ClawLinkError.badRequest("status must be completed, failed or error, not \(status)")
        }
        _ = try await requireAgent(from, role: "from_agent")
        _ = try await requireAgent(to, role: "to_agent")
        let task: MeshTask
        do {
            task = try await mesh.task(taskId, asSeenBy: from)
        } catch let error as MeshError where error.kind == .notFound {
            throw ClawLinkError.notFound("unknown task \(taskId) (message_id must be the message_id of a task_delegation)")
        }
        guard task.from == to else {
            throw ClawLinkError.badRequest("task \(taskId) was delegated by \(task.from), not by to_agent \(to)")
        }
        guard task.assignee == from else {
            throw ClawLinkError.badRequest("task \(taskId) is not assigned to from_agent \(from)")
        }
        if task.state == .offered {
            _ = try await mesh.accept(taskId: taskId, by: from)
        }
        hub.handouts.forget(agentId: from, taskId: taskId)
        if status == "completed" {
            _ = try await mesh.complete(taskId: taskId, by: from, result: result)
        } else {
            let error = result.stringValue ?? String(decoding: (try? JSONCoding.encode(result)) ?? Data(), as: UTF8.self)
            _ = try await mesh.fail(taskId: taskId, by: from, error: error)
        }
        return ["status": "response_sent", "delivery": .string(delivery(to))]
    }

    static func priority(_ raw: String?) throws(ClawLinkError) -> TaskPriority {
        guard let raw else { return .normal }
        switch raw.lowercased() {
        case "medium": return .normal
        case "critical": return .urgent
        default:
            guard let priority = TaskPriority(rawValue: raw.lowercased()) else {
                throw ClawLinkError.badRequest("priority must be one of low, normal, high, urgent, not \(raw)")
            }
            return priority
        }
    }

    /// `websocket` when the agent has a live socket that got the push, else `queued`.
    func delivery(_ agentId: String) -> String {
        gateway.meshConnections.isConnected(agentId: agentId) ? "websocket" : "queued"
    }

    // MARK: broadcasts

    func broadcast(_ body: ClawLinkBody, from socketAgent: String? = nil) async throws -> JSONValue {
        let from = try socketAgent ?? body.string("from_agent")
        guard let from, let content = try body.string("content") else {
            throw ClawLinkError.badRequest(socketAgent == nil ? "from_agent and content are required" : "content is required")
        }
        _ = try await requireAgent(from, role: "from_agent")
        let (broadcast, recipients) = try await mesh.broadcast(
            from: from, content: content, topic: try body.string("topic"), tags: try body.strings("tags")
        )
        return ["status": "broadcast_sent", "message_id": .string(broadcast.broadcastId), "recipients": .int(recipients)]
    }

    // MARK: delivery

    /// Settles what the agent was handed before (it is polling or talking again, so it got it):
    /// notices and results are acknowledged, offers accepted. Failures are left to the lease.
    func settle(agentId: String) async {
        let handed = hub.handouts.take(agentId: agentId)
        guard !handed.isEmpty else { return }
        var acks: [String] = []
        for handout in handed where handout.kind != .taskOffer && !acks.contains(handout.deliveryId) {
            acks.append(handout.deliveryId)
        }
        if !acks.isEmpty, (try? await mesh.ack(agentId: agentId, deliveryIds: acks)) == nil {
            // One of them is gone already (acknowledged elsewhere): the others one by one.
            for id in acks { _ = try? await mesh.ack(agentId: agentId, deliveryIds: [id]) }
        }
        var accepted: Set<String> = []
        for handout in handed where handout.kind == .taskOffer {
            guard let taskId = handout.taskId, accepted.insert(taskId).inserted else { continue }
            // Already answered, withdrawn or re-routed: nothing to accept.
            _ = try? await mesh.accept(taskId: taskId, by: agentId)
        }
    }

    /// Settles the previous hand-out, then leases what waits for the agent. The caller records
    /// the returned hand-outs once the answer is written.
    func poll(agentId: String) async throws -> (response: JSONValue, handouts: [ClawLinkHandouts.Handout]) {
        _ = try await requireAgent(agentId)
        await settle(agentId: agentId)
        let deliveries = try await mesh.poll(agentId: agentId, limit: Self.pollLimit)
        let messages = deliveries.map(ClawLinkMessages.message(for:))
        return (["messages": .array(messages), "count": .int(messages.count)], deliveries.map(ClawLinkHandouts.Handout.init))
    }

    // MARK: files

    func putFile(_ body: ClawLinkBody) async throws -> JSONValue {
        let key = try body.string("file_key")
        let agentId = try body.string("agent_id")
        guard let key, let agentId, let contentValue = body.value("content") else {
            throw ClawLinkError.badRequest("file_key, content, and agent_id are required")
        }
        guard let content = contentValue.stringValue else {
            throw ClawLinkError.badRequest("content must be a string, not \(contentValue.typeName)")
        }
        _ = try await requireAgent(agentId, role: "agent_id")
        let file = try await mesh.putFile(by: agentId, key: key, content: content, fileType: try body.string("file_type"), ifVersion: nil)
        return ["status": "saved", "version": .int(file.version)]
    }

    func listFiles() async throws -> JSONValue {
        let files = try await mesh.files(namespace: namespace)
        return ["files": .array(files.map(ClawLinkRecords.fileMetadata)), "count": .int(files.count)]
    }

    func file(key: String) async throws -> JSONValue {
        do {
            return ClawLinkRecords.file(try await mesh.file(namespace: namespace, key: key))
        } catch let error as MeshError where error.kind == .notFound {
            throw ClawLinkError.notFound("file not found")
        }
    }
}
