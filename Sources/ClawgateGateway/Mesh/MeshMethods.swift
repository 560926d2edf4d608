import ClawgateMesh
import ClawgateProtocol
import Foundation

/// The `mesh.*` methods: the agent mesh over the gateway socket. A connection acts for one
/// agent, bound by `mesh.register`; every call acts as that agent (never as another).
enum MeshMethods {
    static func register(into table: inout MethodTable) {
        table.register("mesh.register", MeshRegisterParams.self) { params, context in
            try await mapped(context) {
                let registration = AgentRegistration(
                    agentId: params.agentId, name: params.name, namespace: params.namespace,
                    capabilities: params.capabilities, agentTypes: params.agentTypes,
                    maxConcurrentTasks: params.maxConcurrentTasks, models: params.models, description: params.description,
                    machine: params.machine, topics: params.topics
                )
                // A connection already acting for this agent needs no credential to update it.
                let actsForIt = params.agentId != nil && context.connection.meshBinding.withLock { $0?.agentId } == params.agentId
                let (agent, credential) = try await context.gateway.mesh.register(
                    registration, credential: params.credential, ownerProven: actsForIt
                )
                let subscribe = params.subscribe ?? true
                context.gateway.meshConnections.bind(
                    context.connection, agentId: agent.agentId, namespace: agent.namespace, nowMs: Clock.nowMs(),
                    receivesPushes: subscribe, receivesEvents: params.events ?? false
                )
                // Whatever waited for this agent while it was away goes out now.
                if subscribe { try await context.gateway.mesh.flush(agentId: agent.agentId) }
                var result: [String: JSONValue] = [
                    "agent": try JSONCoding.value(of: try await context.gateway.mesh.view(agentId: agent.agentId))
                ]
                if let credential { result["credential"] = .string(credential) }
                return JSONValue.object(result)
            }
        }
        table.register("mesh.heartbeat", EmptyParams.self) { _, context in
            try await mapped(context) {
                let binding = try bound(context)
                return try await context.gateway.mesh.heartbeat(agentId: binding.agentId)
            }
        }
        table.register("mesh.discover", MeshDiscoverParams.self) { params, context in
            try await mapped(context) {
                let namespace = try namespace(params.namespace, context)
                var status: AgentStatus?
                if let raw = params.status {
                    guard let parsed = AgentStatus(rawValue: raw) else {
                        throw MeshError(.invalidInput, "status must be one of online, stale, offline")
                    }
                    status = parsed
                }
                let agents = try await context.gateway.mesh.discover(
                    namespace: namespace, capabilities: params.capabilities ?? [], agentType: params.agentType, status: status
                )
                return ["namespace": .string(namespace), "agents": try JSONCoding.value(of: agents), "count": .int(agents.count)] as JSONValue
            }
        }
        table.register("mesh.capabilities", MeshCapabilitiesParams.self) { params, context in
            try await mapped(context) {
                let namespace = try namespace(params.namespace, context)
                let wanted = (params.capabilities ?? []) + (params.taskType.map { [$0] } ?? [])
                guard !wanted.isEmpty else { throw MeshError(.invalidInput, "give capabilities or a taskType to look for") }
                let agents = try await context.gateway.mesh.discover(namespace: namespace, capabilities: wanted, status: .online)
                return [
                    "supported": .bool(!agents.isEmpty), "capabilities": .array(wanted.map { .string($0) }),
                    "agents": try JSONCoding.value(of: agents),
                ] as JSONValue
            }
        }
        table.register("mesh.delegate", MeshDelegateParams.self) { params, context in
            try await mapped(context) {
                let binding = try bound(context)
                var priority = TaskPriority.normal
                if let raw = params.priority {
                    guard let parsed = TaskPriority(rawValue: raw) else {
                        throw MeshError(.invalidInput, "priority must be one of low, normal, high, urgent")
                    }
                    priority = parsed
                }
                let request = DelegateRequest(
                    to: params.to,
                    requirements: params.requirements.map {
                        TaskRequirements(capabilities: $0.capabilities ?? [], skills: $0.skills ?? [], agentTypes: $0.agentTypes ?? [])
                    },
                    type: params.type, description: params.description ?? "", context: params.context, files: params.files ?? [],
                    priority: priority, deadlineMs: params.deadline, idempotencyKey: params.idempotencyKey
                )
                return try await context.gateway.mesh.delegate(request, from: binding.agentId)
            }
        }
        table.register("mesh.accept", MeshTaskParams.self) { params, context in
            try await mapped(context) { try await context.gateway.mesh.accept(taskId: params.taskId, by: try bound(context).agentId) }
        }
        table.register("mesh.reject", MeshRejectParams.self) { params, context in
            try await mapped(context) {
                try await context.gateway.mesh.reject(taskId: params.taskId, by: try bound(context).agentId, reason: params.reason)
            }
        }
        table.register("mesh.update", MeshUpdateParams.self) { params, context in
            try await mapped(context) {
                try await context.gateway.mesh.update(
                    taskId: params.taskId, by: try bound(context).agentId, percentage: params.percentage, message: params.message
                )
            }
        }
        table.register("mesh.complete", MeshCompleteParams.self) { params, context in
            try await mapped(context) {
                try await context.gateway.mesh.complete(taskId: params.taskId, by: try bound(context).agentId, result: params.result)
            }
        }
        table.register("mesh.fail", MeshFailParams.self) { params, context in
            try await mapped(context) {
                try await context.gateway.mesh.fail(taskId: params.taskId, by: try bound(context).agentId, error: params.error)
            }
        }
        table.register("mesh.cancel", MeshTaskParams.self) { params, context in
            try await mapped(context) { try await context.gateway.mesh.cancel(taskId: params.taskId, by: try bound(context).agentId) }
        }
        table.register("mesh.tasks.get", MeshTaskParams.self) { params, context in
            try await mapped(context) { try await context.gateway.mesh.task(params.taskId, asSeenBy: try bound(context).agentId) }
        }
        table.register("mesh.tasks.list", MeshTasksListParams.self) { params, context in
            try await mapped(context) {
                let binding = try bound(context)
                let states = try params.states?.map { raw -> TaskState in
                    guard let state = TaskState(rawValue: raw) else {
                        throw MeshError(.invalidInput, "unknown task state \(raw)")
                    }
                    return state
                }
                let limit = params.limit ?? 100
                guard (1...1000).contains(limit) else { throw MeshError(.invalidInput, "limit must be between 1 and 1000") }
                let tasks = try await context.gateway.mesh.tasks(
                    TaskQuery(namespace: binding.namespace, involving: params.involving, states: states, limit: limit)
                )
                return ["tasks": try JSONCoding.value(of: tasks), "count": .int(tasks.count)] as JSONValue
            }
        }
        table.register("mesh.poll", MeshPollParams.self) { params, context in
            try await mapped(context) {
                let deliveries = try await context.gateway.mesh.poll(agentId: try bound(context).agentId, limit: params.limit ?? 100)
                return ["deliveries": try JSONCoding.value(of: deliveries), "count": .int(deliveries.count)] as JSONValue
            }
        }
        table.register("mesh.ack", MeshAckParams.self) { params, context in
            try await mapped(context) {
                let acked = try await context.gateway.mesh.ack(agentId: try bound(context).agentId, deliveryIds: params.deliveryIds)
                return ["acked": .int(acked)] as JSONValue
            }
        }
        table.register("mesh.broadcast", MeshBroadcastParams.self) { params, context in
            try await mapped(context) {
                let (broadcast, recipients) = try await context.gateway.mesh.broadcast(
                    from: try bound(context).agentId, content: params.content, topic: params.topic, tags: params.tags ?? []
                )
                return ["broadcast": try JSONCoding.value(of: broadcast), "recipients": .int(recipients)] as JSONValue
            }
        }
        table.register("mesh.broadcasts.list", MeshPollParams.self) { params, context in
            try await mapped(context) {
                let list = try await context.gateway.mesh.broadcasts(asSeenBy: try bound(context).agentId, limit: params.limit ?? 100)
                return ["broadcasts": try JSONCoding.value(of: list), "count": .int(list.count)] as JSONValue
            }
        }
        table.register("mesh.files.put", MeshFilePutParams.self) { params, context in
            try await mapped(context) {
                try await context.gateway.mesh.putFile(
                    by: try bound(context).agentId, key: params.key, content: params.content, fileType: params.fileType,
                    ifVersion: params.ifVersion
                ).metadata
            }
        }
        table.register("mesh.files.get", MeshKeyParams.self) { params, context in
            try await mapped(context) { try await context.gateway.mesh.file(asSeenBy: try bound(context).agentId, key: params.key) }
        }
        table.register("mesh.files.list", EmptyParams.self) { _, context in
            try await mapped(context) {
                let files = try await context.gateway.mesh.files(asSeenBy: try bound(context).agentId)
                return ["files": try JSONCoding.value(of: files), "count": .int(files.count)] as JSONValue
            }
        }
        table.register("mesh.files.delete", MeshKeyParams.self) { params, context in
            try await mapped(context) {
                try await context.gateway.mesh.deleteFile(by: try bound(context).agentId, key: params.key, ifVersion: params.ifVersion)
            }
        }
        table.register("mesh.state.get", MeshKeyParams.self) { params, context in
            try await mapped(context) { try await context.gateway.mesh.state(asSeenBy: try bound(context).agentId, key: params.key) }
        }
        table.register("mesh.state.set", MeshStateSetParams.self) { params, context in
            try await mapped(context) {
                var policy = ConflictPolicy.lastWriteWins
                if let raw = params.policy {
                    guard let parsed = ConflictPolicy(parsing: raw) else {
                        throw MeshError(.invalidInput, "policy must be one of last-write-wins, merge, reject")
                    }
                    policy = parsed
                }
                return try await context.gateway.mesh.setState(
                    by: try bound(context).agentId, key: params.key, value: params.value, policy: policy, ifVersion: params.ifVersion
                )
            }
        }
        table.register("mesh.events.since", MeshEventsSinceParams.self) { params, context in
            try await mapped(context) {
                let binding = try bound(context)
                guard params.seq >= 0 else { throw MeshError(.invalidInput, "seq must be >= 0") }
                let events = try await context.gateway.mesh.events(
                    namespace: binding.namespace, afterSeq: params.seq, limit: params.limit ?? 500
                )
                return [
                    "events": try JSONCoding.value(of: events), "count": .int(events.count),
                    "lastSeq": .int(events.last?.seq ?? params.seq),
                ] as JSONValue
            }
        }
    }

    /// The agent this connection acts for.
    static func bound(_ context: MethodContext) throws -> MeshBinding {
        guard let binding = context.connection.meshBinding.withLock({ $0 }) else {
            throw MeshError(.invalidInput, "this connection acts for no agent yet: call mesh.register first")
        }
        return binding
    }

    /// The namespace to look at: the bound agent's own; other namespaces only for admins.
    static func namespace(_ requested: String?, _ context: MethodContext) throws -> String {
        let own = context.connection.meshBinding.withLock { $0?.namespace }
        switch (requested, own) {
        case (nil, let own?): return own
        case (let requested?, let own?) where requested == own: return requested
        case (let requested?, _) where context.isAdmin: return requested
        case (nil, nil): throw MeshError(.invalidInput, "give a namespace (this connection acts for no agent)")
        default: throw MeshError(.forbidden, "agents see only their own namespace")
        }
    }

    /// Turns mesh errors into protocol errors: `FORBIDDEN` for authorization (protocol 4;
    /// `INVALID_REQUEST` on 3), `INVALID_REQUEST` with `details.code` for the rest.
    static func mapped<R: Sendable>(_ context: MethodContext, _ body: () async throws -> R) async throws -> R {
        do {
            return try await body()
        } catch let error as MeshError {
            let code = error.kind == .forbidden && context.connection.protocolVersion >= 4 ? ErrorCode.forbidden : ErrorCode.invalidRequest
            throw MethodError(ErrorShape(code: code, message: error.message, details: ["code": .string(error.kind.rawValue)]))
        }
    }
}
