import ClawgateMesh
import Testing

/// The health score formula (documented in the README and on `AgentHealth`).
@Suite("Agent health score")
struct AgentHealthTests {
    let stale = 120_000

    func score(age: Int = 0, failures: Int = 0, finished: Int = 0, active: Int = 0, max: Int = 1) -> Double {
        AgentHealth.score(
            heartbeatAgeMs: age, staleAfterMs: stale, recentFailures: failures, recentFinished: finished, activeTasks: active,
            maxConcurrentTasks: max
        )
    }

    @Test func freshIdleReliableAgentScoresOne() {
        #expect(score() == 1)
        #expect(score(age: 60_000, failures: 0, finished: 10) == 1)
    }

    @Test func freshnessFallsLinearlyFromHalfTheStaleWindowToZero() {
        #expect(AgentHealth.freshness(heartbeatAgeMs: 0, staleAfterMs: stale) == 1)
        #expect(AgentHealth.freshness(heartbeatAgeMs: 60_000, staleAfterMs: stale) == 1)
        #expect(abs(AgentHealth.freshness(heartbeatAgeMs: 90_000, staleAfterMs: stale) - 0.5) < 1e-12)
        #expect(AgentHealth.freshness(heartbeatAgeMs: 120_000, staleAfterMs: stale) == 0)
        #expect(AgentHealth.freshness(heartbeatAgeMs: 10_000_000, staleAfterMs: stale) == 0)
        // A clock step backwards (heartbeat "in the future") is treated as fresh, not above 1.
        #expect(AgentHealth.freshness(heartbeatAgeMs: -5_000, staleAfterMs: stale) == 1)
        #expect(abs(score(age: 90_000) - 0.5) < 1e-12)
        #expect(score(age: 130_000) == 0)
    }

    @Test func failuresAndLoadLowerTheScoreByTheirWeights() {
        // Half the recent tasks failed: 0.7 × 0.5 + 0.3 × 1.
        #expect(abs(score(failures: 5, finished: 10) - 0.65) < 1e-12)
        // Everything failed: only the headroom part remains.
        #expect(abs(score(failures: 3, finished: 3) - 0.3) < 1e-12)
        // Fully loaded, reliable: 0.7.
        #expect(abs(score(active: 4, max: 4) - 0.7) < 1e-12)
        // Half loaded, a quarter failed: 0.7 × 0.75 + 0.3 × 0.5.
        #expect(abs(score(failures: 1, finished: 4, active: 2, max: 4) - 0.675) < 1e-12)
        // Over capacity (the store can count more than the max after a re-registration) stays at 0 headroom.
        #expect(abs(score(active: 9, max: 4) - 0.7) < 1e-12)
        // Freshness multiplies everything.
        #expect(abs(score(age: 90_000, failures: 5, finished: 10) - 0.325) < 1e-12)
    }

    @Test func degenerateInputsStayWithinZeroAndOne() {
        #expect(score(failures: 5, finished: 0) == 1)
        #expect(score(failures: 7, finished: 3) == 0.3)
        #expect(score(max: 0) == 1)
        let zeroWindow = AgentHealth.score(
            heartbeatAgeMs: 0, staleAfterMs: 0, recentFailures: 0, recentFinished: 0, activeTasks: 0, maxConcurrentTasks: 1
        )
        #expect((0...1).contains(zeroWindow))
    }
}
