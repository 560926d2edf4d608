import ClawgateAgents
import ClawgateMesh
import ClawgateProtocol
import Foundation

/// The mesh as tools for hosted agents: discover agents, delegate a task and wait for its
/// result, broadcast knowledge, read and write shared files. A hosted agent acts in the mesh
/// as the agent `hosted.<agentId>` of namespace `default` (registered on first use, with no
/// capabilities, so tasks are never routed to it).
enum MeshAgentTools {
    static let namespace = "default"

    static func registry(mesh: MeshService) -> ToolRegistry {
        ToolRegistry([
            Discover(mesh: mesh), Delegate(mesh: mesh), Broadcast(mesh: mesh), FilesList(mesh: mesh), FileRead(mesh: mesh),
            FileWrite(mesh: mesh),
        ])
    }

    static func meshIdentity(of agentId: String) -> String { "hosted.\(agentId)" }

    /// Registers (or refreshes) the hosted agent's mesh identity; returns its mesh agent id.
    static func actAs(_ context: ToolContext, mesh: MeshService) async throws -> String {
        let id = meshIdentity(of: context.agentId)
        do {
            _ = try await mesh.register(
                AgentRegistration(
                    agentId: id, name: "hosted agent \(context.agentId)", namespace: namespace, capabilities: [], agentTypes: ["hosted"],
                    description: "a Clawgate hosted agent"
                ),
                trustedCaller: true
            )
        } catch let error as MeshError {
            throw ToolError(error.message)
        }
        return id
    }

    static func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as MeshError {
            throw ToolError(error.message)
        }
    }

    /// Polls the task until it ends (backing off from 20 ms to 500 ms), then acknowledges the
    /// result delivery so it is not redelivered to an agent that never polls.
    static func waitForEnd(taskId: String, me: String, timeoutMs: Int, mesh: MeshService) async throws -> MeshTask {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMs)
        var delay = 20
        while true {
            let task = try await run { try await mesh.task(taskId, asSeenBy: me) }
            if task.state.isTerminal {
                let deliveries = (try? await mesh.poll(agentId: me, limit: 1000)) ?? []
                let mine = deliveries.filter { $0.taskId == taskId && $0.kind != .taskOffer }.map(\.deliveryId)
                if !mine.isEmpty { _ = try? await mesh.ack(agentId: me, deliveryIds: mine) }
                return task
            }
            guard ContinuousClock.now < deadline else {
                throw ToolError("task \(taskId) did not finish within \(timeoutMs / 1000) s (state \(task.state.rawValue)); it keeps running")
            }
            try await Task.sleep(for: .milliseconds(delay))
            delay = min(delay * 2, 500)
        }
    }

    /// The mesh identity that hands chat turns to remote agents.
    static let chatRelayIdentity = "clawgate.chat"

    /// A chat turn for a connected mesh agent: delegated as a task of type `chat` with context
    /// `{message, sessionKey, runId}`; the reply is the result's `text` (or `reply`, or the result
    /// itself when it is a string). Waits up to 10 minutes; an abort cancels the task.
    static func remoteTurn(_ turn: RemoteTurn, mesh: MeshService) async throws -> String {
        let me = chatRelayIdentity
        do {
            _ = try await mesh.register(
                AgentRegistration(agentId: me, name: "Clawgate chat relay", namespace: namespace, capabilities: [], agentTypes: ["hosted"]),
                trustedCaller: true
            )
            let task = try await mesh.delegate(
                DelegateRequest(
                    to: turn.agentId, type: "chat", description: turn.message,
                    context: ["message": .string(turn.message), "sessionKey": .string(turn.sessionKey), "runId": .string(turn.runId)],
                    idempotencyKey: turn.runId
                ),
                from: me
            )
            let finished: MeshTask
            do {
                finished = try await waitForEnd(taskId: task.taskId, me: me, timeoutMs: 600_000, mesh: mesh)
            } catch is CancellationError {
                _ = try? await mesh.cancel(taskId: task.taskId, by: me)
                throw CancellationError()
            }
            guard finished.state == .completed else {
                throw AgentError(.unavailable, "agent \(turn.agentId) did not answer: task \(finished.state.rawValue)\(finished.error.map { ": \($0)" } ?? "")")
            }
            switch finished.result {
            case .some(.string(let text)): return text
            case .some(let value):
                if let text = value["text"]?.stringValue ?? value["reply"]?.stringValue { return text }
                return String(decoding: try JSONCoding.encode(value, sortedKeys: true), as: UTF8.self)
            case .none: return ""
            }
        } catch let error as MeshError {
            throw AgentError(.unavailable, "agent \(turn.agentId): \(error.message)")
        } catch let error as ToolError {
            throw AgentError(.unavailable, "agent \(turn.agentId): \(error.message)")
        }
    }

    static func strings(_ value: JSONValue?, _ field: String) throws -> [String] {
        guard let value, !value.isNull else { return [] }
        guard let items = value.arrayValue else { throw ToolError("\(field) must be an array of strings") }
        return try items.map { item in
            guard let text = item.stringValue else { throw ToolError("\(field) must be an array of strings") }
            return text
        }
    }

    static func required(_ arguments: JSONValue, _ field: String) throws -> String {
        guard let text = arguments[field]?.stringValue, !text.isEmpty else { throw ToolError("\(field) is required (a non-empty string)") }
        return text
    }

    struct Discover: AgentTool {
        let mesh: MeshService
        let name = "mesh_discover"
        let description = "List the agents of the mesh, optionally only those having all the given capabilities."
        let isDangerous = false
        var parameters: JSONValue {
            [
                "type": "object",
                "properties": [
                    "capabilities": ["type": "array", "items": ["type": "string"], "description": "capabilities an agent must all have"],
                    "agentType": ["type": "string"],
                ],
            ]
        }

        func invoke(arguments: JSONValue, context: ToolContext) async throws -> JSONValue {
            let capabilities = try strings(arguments["capabilities"], "capabilities")
            let agents = try await run {
                try await mesh.discover(namespace: namespace, capabilities: capabilities, agentType: arguments["agentType"]?.stringValue)
            }
            let rows: [JSONValue] = agents.filter { !$0.agentTypes.contains("hosted") }.map { agent in
                [
                    "agentId": .string(agent.agentId), "name": .string(agent.name), "status": .string(agent.status.rawValue),
                    "capabilities": .array(agent.capabilities.map { .string($0) }), "description": .string(agent.description),
                ]
            }
            return ["agents": .array(rows)]
        }
    }

    struct Delegate: AgentTool {
        let mesh: MeshService
        let name = "mesh_delegate"
        let description =
            "Delegate a task to another agent of the mesh (by id, or to the least-loaded agent with the given capabilities) and wait for its result."
        let isDangerous = true
        var parameters: JSONValue {
            [
                "type": "object",
                "properties": [
                    "to": ["type": "string", "description": "the agent id to delegate to"],
                    "capabilities": ["type": "array", "items": ["type": "string"], "description": "route to an agent having all of these"],
                    "type": ["type": "string", "description": "the task type, e.g. code_review"],
                    "description": ["type": "string"],
                    "context": ["type": "object"],
                    "timeoutSeconds": ["type": "number", "description": "how long to wait for the result (default 120)"],
                ],
                "required": ["type", "description"],
            ]
        }

        func invoke(arguments: JSONValue, context: ToolContext) async throws -> JSONValue {
            let me = try await actAs(context, mesh: mesh)
            let capabilities = try strings(arguments["capabilities"], "capabilities")
            let to = arguments["to"]?.stringValue
            guard to != nil || !capabilities.isEmpty else { throw ToolError("give `to` (an agent id) or `capabilities` to route by") }
            let timeoutSeconds = arguments["timeoutSeconds"]?.intValue ?? 120
            guard (1...3600).contains(timeoutSeconds) else { throw ToolError("timeoutSeconds must be from 1 to 3600") }
            let request = DelegateRequest(
                to: to, requirements: to == nil ? TaskRequirements(capabilities: capabilities) : nil, type: try required(arguments, "type"),
                description: arguments["description"]?.stringValue ?? "", context: arguments["context"],
                idempotencyKey: context.runId.map { "\($0):\(RandomID.hex(count: 8))" }
            )
            let task = try await run { try await mesh.delegate(request, from: me) }
            let finished = try await MeshAgentTools.waitForEnd(taskId: task.taskId, me: me, timeoutMs: timeoutSeconds * 1000, mesh: mesh)
            var result: [String: JSONValue] = ["taskId": .string(finished.taskId), "state": .string(finished.state.rawValue)]
            if let assignee = finished.assignee { result["agentId"] = .string(assignee) }
            if let value = finished.result { result["result"] = value }
            if let error = finished.error { result["error"] = .string(error) }
            return .object(result)
        }
    }

    struct Broadcast: AgentTool {
        let mesh: MeshService
        let name = "mesh_broadcast"
        let description = "Broadcast a knowledge message to the agents of the mesh (all, or the subscribers of a topic)."
        let isDangerous = true
        var parameters: JSONValue {
            [
                "type": "object",
                "properties": ["content": ["type": "string"], "topic": ["type": "string"], "tags": ["type": "array", "items": ["type": "string"]]],
                "required": ["content"],
            ]
        }

        func invoke(arguments: JSONValue, context: ToolContext) async throws -> JSONValue {
            let me = try await actAs(context, mesh: mesh)
            let content = try required(arguments, "content")
            let tags = try strings(arguments["tags"], "tags")
            let (broadcast, recipients) = try await run {
                try await mesh.broadcast(from: me, content: content, topic: arguments["topic"]?.stringValue, tags: tags)
            }
            return ["broadcastId": .string(broadcast.broadcastId), "recipients": .int(recipients)]
        }
    }

    struct FilesList: AgentTool {
        let mesh: MeshService
        let name = "mesh_files_list"
        let description = "List the shared files of the mesh."
        let isDangerous = false
        var parameters: JSONValue { ["type": "object", "properties": [:]] }

        func invoke(arguments: JSONValue, context: ToolContext) async throws -> JSONValue {
            let files = try await run { try await mesh.files(namespace: namespace) }
            return ["files": try JSONCoding.value(of: files)]
        }
    }

    struct FileRead: AgentTool {
        let mesh: MeshService
        let name = "mesh_files_read"
        let description = "Read a shared file of the mesh by key."
        let isDangerous = false
        var parameters: JSONValue { ["type": "object", "properties": ["key": ["type": "string"]], "required": ["key"]] }

        func invoke(arguments: JSONValue, context: ToolContext) async throws -> JSONValue {
            let key = try required(arguments, "key")
            let file = try await run { try await mesh.file(namespace: namespace, key: key) }
            return ["key": .string(file.key), "version": .int(file.version), "content": .string(file.content)]
        }
    }

    struct FileWrite: AgentTool {
        let mesh: MeshService
        let name = "mesh_files_write"
        let description = "Write a shared file of the mesh (give ifVersion to refuse overwriting someone else's change)."
        let isDangerous = true
        var parameters: JSONValue {
            [
                "type": "object",
                "properties": ["key": ["type": "string"], "content": ["type": "string"], "ifVersion": ["type": "integer"]],
                "required": ["key", "content"],
            ]
        }

        func invoke(arguments: JSONValue, context: ToolContext) async throws -> JSONValue {
            let me = try await actAs(context, mesh: mesh)
            let key = try required(arguments, "key")
            guard let content = arguments["content"]?.stringValue else { throw ToolError("content is required (a string)") }
            let file = try await run {
                try await mesh.putFile(by: me, key: key, content: content, fileType: nil, ifVersion: arguments["ifVersion"]?.intValue)
            }
            return ["key": .string(file.key), "version": .int(file.version)]
        }
    }
}
