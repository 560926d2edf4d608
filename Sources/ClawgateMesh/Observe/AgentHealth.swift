/// The 0–1 health score of a mesh agent (seed 002's `openclaw_agent_health_score`).
///
///     score = freshness × (0.7 × reliability + 0.3 × headroom)
///
/// - freshness: 1 while the last heartbeat is at most half the stale window old, then falling
///   linearly to 0 when the agent turns stale (`mesh.staleAfterMs`). An agent that stopped
///   talking is unhealthy whatever else is true of it, hence the product.
/// - reliability: 1 − the failure rate of the agent's recently finished tasks (failed and
///   dead-lettered against completed); 1 when it has finished none yet.
/// - headroom: 1 − activeTasks / maxConcurrentTasks (clamped to 0…1): a saturated agent can take
///   no more work.
///
/// So a fresh, idle agent that never failed scores 1; the same agent fully loaded 0.7; one that
/// failed half its recent tasks 0.65 when idle; a stale or gone agent 0.
public enum AgentHealth {
    public static let reliabilityWeight = 0.7
    public static let headroomWeight = 0.3

    public static func score(
        heartbeatAgeMs: Int, staleAfterMs: Int, recentFailures: Int, recentFinished: Int, activeTasks: Int, maxConcurrentTasks: Int
    ) -> Double {
        let freshness = self.freshness(heartbeatAgeMs: heartbeatAgeMs, staleAfterMs: staleAfterMs)
        let reliability = recentFinished > 0 ? 1 - clamp(Double(recentFailures) / Double(recentFinished)) : 1
        let headroom = 1 - clamp(Double(max(0, activeTasks)) / Double(max(1, maxConcurrentTasks)))
        return clamp(freshness * (reliabilityWeight * reliability + headroomWeight * headroom))
    }

    /// 1 up to half the stale window, then linear down to 0 at the stale window.
    public static func freshness(heartbeatAgeMs: Int, staleAfterMs: Int) -> Double {
        let window = Double(max(1, staleAfterMs))
        let age = Double(max(0, heartbeatAgeMs))
        return clamp((window - age) / (window / 2))
    }

    static func clamp(_ value: Double) -> Double {
        value.isNaN ? 0 : min(1, max(0, value))
    }
}
