import ClawgateMesh
import Synchronization

/// What each agent was handed (by a poll answer or a push on its socket) and has not settled
/// yet. ClawLink clients never acknowledge explicitly, so the agent's next poll or socket frame
/// settles it (`ClawLinkRelay.settle`). Memory only and bounded per agent: whatever is
/// forgotten here (a restart, the cap) stays leased in the mesh and is handed out again when
/// its lease runs out — at least once, never lost.
final class ClawLinkHandouts: Sendable {
    struct Handout: Sendable, Equatable {
        var deliveryId: String
        var kind: DeliveryKind
        var taskId: String?

        init(_ delivery: MeshDelivery) {
            self.deliveryId = delivery.deliveryId
            self.kind = delivery.kind
            self.taskId = delivery.taskId
        }
    }

    /// Per agent; beyond this the oldest are forgotten (and come back after their lease).
    static let maxPerAgent = 1000
    /// Agents tracked at once; beyond this the table is cleared (same consequence).
    static let maxAgents = 100_000

    private let byAgent = Mutex<[String: [Handout]]>([:])

    func record(agentId: String, _ handouts: [Handout]) {
        guard !handouts.isEmpty else { return }
        byAgent.withLock { map in
            if map[agentId] == nil && map.count >= Self.maxAgents { map.removeAll() }
            var list = map[agentId] ?? []
            for handout in handouts where !list.contains(handout) { list.append(handout) }
            if list.count > Self.maxPerAgent { list.removeFirst(list.count - Self.maxPerAgent) }
            map[agentId] = list
        }
    }

    /// Everything recorded for the agent, removed from the ledger.
    func take(agentId: String) -> [Handout] {
        byAgent.withLock { $0.removeValue(forKey: agentId) ?? [] }
    }

    /// Forgets hand-outs that may not have arrived (an answer that could not be written, a
    /// socket that closed before the agent spoke again): their lease brings them back instead
    /// of the next poll acknowledging them.
    func remove(agentId: String, deliveryIds: [String]) {
        guard !deliveryIds.isEmpty else { return }
        let ids = Set(deliveryIds)
        byAgent.withLock { map in
            map[agentId]?.removeAll { ids.contains($0.deliveryId) }
            if map[agentId]?.isEmpty == true { map[agentId] = nil }
        }
    }

    /// Drops the offer of a task the agent answered itself.
    func forget(agentId: String, taskId: String) {
        byAgent.withLock { map in
            map[agentId]?.removeAll { $0.kind == .taskOffer && $0.taskId == taskId }
            if map[agentId]?.isEmpty == true { map[agentId] = nil }
        }
    }

    func count(agentId: String) -> Int {
        byAgent.withLock { $0[agentId]?.count ?? 0 }
    }
}
