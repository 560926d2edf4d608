import ClawgateMesh
import ClawgateProtocol
import Foundation

/// Capability discovery: `capability_query` → `capability_response`, and
/// `GET /api/openclaw/capabilities`.
extension SeedAPI {
    /// `capability_query` (payload: `task_type` and/or `capabilities` / `skills`, optional
    /// `agent_type`, `model`) → a `capability_response` envelope from the gateway. Looks at the
    /// namespace's online agents other than the asker (the mesh never offers a task to its own
    /// delegator), of `agent_type` and supporting `model` when given. An agent matches when it
    /// has every wanted capability (`task_type` counts as one, as in `mesh.capabilities`).
    ///
    /// - `supported`: some agent matches. `agents`: the matching agents; `agent_types`: theirs.
    /// - `confidence`: the share of the wanted capabilities held by the best-placed agent (1 when
    ///   supported, 0 when no agent has any of them), to two decimals. Not the share of agents
    ///   that match: one specialist among ten agents supports a task fully.
    /// - `available_agents`: matching agents with room below `max_concurrent_tasks` now (0: an
    ///   offer would wait queued). `estimated_cost`: null (the mesh knows no prices).
    func capabilityQuery(_ message: SeedEnvelope, namespace: String) async throws -> JSONValue {
        _ = try await requireAgent(message.agentId, namespace: namespace)
        let payload = message.payload
        let taskType = try payload.string("task_type")
        let wanted = try payload.strings("capabilities") + payload.strings("skills") + (taskType.map { [$0] } ?? [])
        let agentType = try payload.string("agent_type")
        let model = try payload.string("model")
        guard !wanted.isEmpty || agentType != nil || model != nil else {
            throw ClawLinkError.badRequest("give task_type, capabilities, agent_type or model to look for")
        }
        let candidates = try await mesh.discover(namespace: namespace, agentType: agentType, status: .online).filter { agent in
            agent.agentId != message.agentId
                && (model.map { wantedModel in agent.models.contains { $0.lowercased() == wantedModel.lowercased() } } ?? true)
        }
        let wantedSet = Set(wanted.map { $0.lowercased() })
        func coverage(_ agent: AgentView) -> Double {
            guard !wantedSet.isEmpty else { return 1 }
            let mine = Set(agent.capabilities.map { $0.lowercased() })
            return Double(wantedSet.intersection(mine).count) / Double(wantedSet.count)
        }
        let matching = candidates.filter { coverage($0) == 1 }
        let confidence = ((candidates.map(coverage).max() ?? 0) * 100).rounded() / 100
        let available = matching.filter { $0.activeTasks < $0.maxConcurrentTasks }.count
        var query: [String: JSONValue] = ["capabilities": SeedRecords.strings(wanted)]
        if let taskType { query["task_type"] = .string(taskType) }
        if let agentType { query["agent_type"] = .string(agentType) }
        if let model { query["model"] = .string(model) }
        if let queryType = try payload.string("query_type") { query["query_type"] = .string(queryType) }
        let answer: JSONValue = [
            "supported": .bool(!matching.isEmpty),
            "agent_types": SeedRecords.strings(Self.union(matching.map(\.agentTypes))),
            "agents": .array(matching.map { SeedRecords.agent($0, connected: connected($0.agentId)) }),
            "confidence": .double(confidence),
            "estimated_cost": .null,
            "available_agents": .int(available),
            "query": .object(query),
            "in_reply_to": .string(message.agentId),
        ]
        return SeedEnvelope.make(
            SeedMessageType.capabilityResponse.rawValue, agentId: Self.gatewayAgentId, namespace: namespace,
            timestampMs: Clock.nowMs(), payload: answer
        )
    }

    /// `GET /api/openclaw/capabilities`: what the gateway speaks and what the namespace's online
    /// agents can do.
    func capabilities(namespace requested: String?) async throws -> JSONValue {
        let namespace = try namespace(requested)
        let online = try await mesh.discover(namespace: namespace, status: .online)
        return [
            "protocol_version": .string(SeedEnvelope.protocolVersion),
            "namespace": .string(namespace),
            "supported_message_types": SeedRecords.strings(SeedMessageType.names),
            "accepted_message_types": SeedRecords.strings(SeedMessageType.names.filter { $0 != SeedMessageType.capabilityResponse.rawValue }),
            "conflict_policies": SeedRecords.strings(ConflictPolicy.allCases.map(\.rawValue)),
            "priorities": SeedRecords.strings(TaskPriority.allCases.map(\.rawValue)),
            "features": ["task_sharing": true, "state_sync": true, "capabilities_discovery": true],
            "limits": [
                "max_message_bytes": .int(ClawLinkBody.maxBytes),
                "stale_after_ms": .int(mesh.settings.staleAfterMs),
                "lease_ms": .int(mesh.settings.leaseMs),
            ],
            "capabilities": SeedRecords.strings(Self.union(online.map(\.capabilities))),
            "agent_types": SeedRecords.strings(Self.union(online.map(\.agentTypes))),
            "supported_models": SeedRecords.strings(Self.union(online.map(\.models))),
            "agents": .array(online.map { SeedRecords.agent($0, connected: connected($0.agentId)) }),
            "count": .int(online.count),
            "server_time": .string(SeedRecords.now()),
        ]
    }

    /// Distinct values, sorted.
    static func union(_ lists: [[String]]) -> [String] {
        Array(Set(lists.joined())).sorted()
    }
}
