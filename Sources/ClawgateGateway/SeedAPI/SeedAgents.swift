import ClawgateMesh
import ClawgateProtocol

/// `register` and `heartbeat`.
extension SeedAPI {
    /// `register` → mesh `register` as a trusted caller (the shared secret stands for the
    /// operator): `name`, `description`, `capabilities`, `agent_types`, `max_concurrent_tasks`,
    /// `supported_models` (or `models`), `machine` (default: the caller's address). A field left
    /// out of a re-registration keeps its value. An id registered in another namespace is a 409.
    func register(_ message: SeedEnvelope, namespace: String, peer: String?) async throws -> JSONValue {
        let payload = message.payload
        let existing = try await mesh.agent(message.agentId)
        if let existing, existing.namespace != namespace {
            throw ClawLinkError(
                .conflict, "agent id \(message.agentId) is registered in namespace \(existing.namespace), not \(namespace)"
            )
        }
        let maxConcurrent = try payload.integer("max_concurrent_tasks")
        if let maxConcurrent, !(1...10_000).contains(maxConcurrent) {
            throw ClawLinkError.badRequest("max_concurrent_tasks must be between 1 and 10000")
        }
        let modelsKey = payload.value("supported_models") != nil ? "supported_models" : "models"
        let registration = AgentRegistration(
            agentId: message.agentId, name: try payload.string("name"), namespace: namespace,
            capabilities: try list(payload, "capabilities"), agentTypes: try list(payload, "agent_types"),
            maxConcurrentTasks: maxConcurrent, models: try list(payload, modelsKey), description: try payload.string("description"),
            machine: try payload.string("machine") ?? (existing == nil ? peer : nil)
        )
        let (agent, credential) = try await mesh.register(registration, trustedCaller: true)
        var answer: [String: JSONValue] = [
            "status": "registered",
            "created": .bool(existing == nil),
            "agent": try await agentRecord(agent.agentId),
        ]
        // New agents only: lets the agent use `mesh.register` on the gateway socket.
        if let credential { answer["credential"] = .string(credential) }
        return .object(answer)
    }

    /// `heartbeat` → mesh `heartbeat`: the agent is online for `mesh.staleAfterMs` more.
    func heartbeat(_ message: SeedEnvelope, namespace: String) async throws -> JSONValue {
        _ = try await requireAgent(message.agentId, namespace: namespace)
        let view = try await mesh.heartbeat(agentId: message.agentId)
        return ["status": "ok", "agent": SeedRecords.agent(view, connected: connected(view.agentId))]
    }

    func agentRecord(_ agentId: String) async throws -> JSONValue {
        SeedRecords.agent(try await mesh.view(agentId: agentId), connected: connected(agentId))
    }

    func connected(_ agentId: String) -> Bool {
        gateway.meshConnections.isConnected(agentId: agentId)
    }

    /// nil when absent (a re-registration keeps the stored list).
    private func list(_ payload: ClawLinkBody, _ key: String) throws(ClawLinkError) -> [String]? {
        payload.value(key) == nil ? nil : try payload.strings(key)
    }
}
