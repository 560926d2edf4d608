import ClawgateProtocol

/// Gateway-wide figures for `health`, `status` and `/ready`.
extension MeshService {
    /// Agents by status and tasks by state over every namespace. `connectedAgents` comes from
    /// the transport (which sockets act for which agent), not from the store.
    public nonisolated func summary(connectedAgents: Int, nowMs: Int = MeshClock.nowMs()) async throws -> MeshSummary {
        let agents = try await store.agents(namespace: nil)
        let online = agents.filter { $0.status(nowMs: nowMs, staleAfterMs: settings.staleAfterMs) == .online }.count
        let counts = try await store.taskCountsByState()
        var tasks: [String: Int] = [:]
        for state in TaskState.allCases { tasks[state.rawValue] = counts[state] ?? 0 }
        return MeshSummary(
            agents: .init(total: agents.count, online: online, stale: agents.count - online, connected: connectedAgents),
            tasks: tasks, deadLetters: counts[.deadLettered] ?? 0
        )
    }

    /// A cheap read of the store, for readiness: throws when the database cannot be read.
    /// Nonisolated, so a busy mesh actor does not make the store look unreachable.
    public nonisolated func probeStore() async throws {
        _ = try await store.latestEventSeq()
    }
}
