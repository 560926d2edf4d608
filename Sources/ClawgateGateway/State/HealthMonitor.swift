import ClawgateProtocol
import Foundation
import Synchronization

/// Produces the health snapshot (`health` RPC, `health` event, hello-ok snapshot) and its
/// `stateVersion` counter. Refreshed periodically by the gateway service and on demand.
final class HealthMonitor: Sendable {
    private struct State {
        var snapshot: HealthSnapshot
        var version = 1
        var heartbeatSeconds: Int
    }

    private let state: Mutex<State>
    let stateDir: String
    var heartbeatSeconds: Int { state.withLock { $0.heartbeatSeconds } }

    init(stateDir: String, heartbeatSeconds: Int) {
        self.stateDir = stateDir
        self.state = Mutex(
            State(snapshot: Self.build(stateDir: stateDir, heartbeatSeconds: heartbeatSeconds, durationMs: 0), heartbeatSeconds: heartbeatSeconds)
        )
    }

    /// The tick interval changed (listeners restarted after a config change).
    func update(heartbeatSeconds: Int) {
        state.withLock { $0.heartbeatSeconds = heartbeatSeconds }
    }

    var current: (snapshot: HealthSnapshot, version: Int) {
        state.withLock { ($0.snapshot, $0.version) }
    }

    /// Rebuilds the snapshot and bumps the version.
    @discardableResult
    func refresh() -> (snapshot: HealthSnapshot, version: Int) {
        let started = ContinuousClock.now
        var snapshot = Self.build(stateDir: stateDir, heartbeatSeconds: heartbeatSeconds, durationMs: 0)
        let elapsed = ContinuousClock.now - started
        snapshot.durationMs = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        return state.withLock { state in
            state.snapshot = snapshot
            state.version += 1
            return (snapshot, state.version)
        }
    }

    /// No hosted agents or sessions exist yet (they arrive with the hosted-agents work), so the
    /// snapshot reports the default agent id and an empty session store truthfully.
    static func build(stateDir: String, heartbeatSeconds: Int, durationMs: Int) -> HealthSnapshot {
        let sessionsPath = (stateDir as NSString).appendingPathComponent("agents/main/sessions/sessions.json")
        return HealthSnapshot(
            ok: true, ts: Clock.nowMs(), durationMs: durationMs, heartbeatSeconds: heartbeatSeconds, defaultAgentId: "main",
            agents: [], sessions: .init(path: sessionsPath, count: 0)
        )
    }
}

/// Wall-clock milliseconds, the protocol's timestamp unit.
enum Clock {
    static func nowMs() -> Int { Int((Date().timeIntervalSince1970 * 1000).rounded()) }
}
