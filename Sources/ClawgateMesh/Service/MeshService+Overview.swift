import ClawgateProtocol

/// Read-only overviews of a namespace for transports that act for a namespace rather than for
/// one agent (the seed-000 HTTP API: task lookup by id, status counts, the newest events).
extension MeshService {
    /// Every registered agent of every namespace with its live status and load, for a metrics
    /// scrape. One store read for the agents plus one load count per namespace.
    public func allAgents() async throws -> [AgentView] {
        let nowMs = now()
        let agents = try await store.agents(namespace: nil)
        var loads: [String: [String: Int]] = [:]
        for namespace in Set(agents.map(\.namespace)) {
            loads[namespace] = try await store.activeTaskCounts(namespace: namespace)
        }
        return agents.map { agent in
            AgentView(
                agent, status: agent.status(nowMs: nowMs, staleAfterMs: settings.staleAfterMs),
                activeTasks: loads[agent.namespace]?[agent.agentId] ?? 0
            )
        }
    }

    /// One task of a namespace; `not_found` for an unknown id or a task of another namespace.
    public func task(_ taskId: String, namespace: String) async throws -> MeshTask {
        guard let task = try await store.task(id: taskId), task.namespace == namespace else {
            throw MeshError(.notFound, "unknown task \(taskId)")
        }
        return task
    }

    /// Tasks of a namespace counted by state, among the newest `limit` tasks in `states` (nil:
    /// every state). `truncated` says the limit was reached, so the counts are a lower bound.
    public func taskCounts(
        namespace: String, states: [TaskState]? = nil, limit: Int = 10_000
    ) async throws -> (counts: [TaskState: Int], truncated: Bool) {
        let limit = max(1, limit)
        let tasks = try await store.tasks(TaskQuery(namespace: namespace, states: states, limit: limit))
        var counts: [TaskState: Int] = [:]
        for task in tasks { counts[task.state, default: 0] += 1 }
        return (counts, tasks.count >= limit)
    }

    /// The newest events of a namespace (optionally only of `types`), newest first. Walks the
    /// log backwards in growing windows and looks at most `scanLimit` sequence numbers back.
    public func recentEvents(
        namespace: String, limit: Int, types: Set<String>? = nil, scanLimit: Int = 100_000
    ) async throws -> [MeshEvent] {
        let limit = max(1, min(limit, 5000))
        var upper = try await store.latestEventSeq()
        let floor = max(0, upper - max(1, scanLimit))
        var window = max(limit, 256)
        var found: [MeshEvent] = []
        while upper > floor && found.count < limit {
            let lower = max(floor, upper - window)
            // Every event in (lower, upper] fits in `upper - lower` rows.
            let batch = try await store.events(namespace: namespace, afterSeq: lower, limit: upper - lower)
            for event in batch.reversed() where event.seq <= upper && (types?.contains(event.type) ?? true) {
                found.append(event)
            }
            upper = lower
            window = min(window * 2, 16_384)
        }
        return Array(found.prefix(limit))
    }
}
