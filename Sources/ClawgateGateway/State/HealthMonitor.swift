import ClawgateProtocol
import Foundation
import Synchronization

/// Holds the health snapshot (`health` RPC, `health` event, hello-ok snapshot) and its
/// `stateVersion` counter. `GatewayCore.refreshHealth` builds a new one from the live parts
/// (agents, sessions, mesh, readiness), at start, periodically and on `health {probe:true}`.
final class HealthMonitor: Sendable {
    private struct State {
        var snapshot: HealthSnapshot
        var version = 1
        var heartbeatSeconds: Int
    }

    private let state: Mutex<State>
    var heartbeatSeconds: Int { state.withLock { $0.heartbeatSeconds } }

    /// Starts with an empty snapshot that the gateway replaces before it accepts clients.
    init(stateDir: String, heartbeatSeconds: Int, defaultAgentId: String) {
        let sessionsPath = (stateDir as NSString).appendingPathComponent("agents/\(defaultAgentId)/sessions/sessions.json")
        let initial = HealthSnapshot(
            ok: true, ts: Clock.nowMs(), durationMs: 0, heartbeatSeconds: heartbeatSeconds, defaultAgentId: defaultAgentId,
            agents: [], sessions: .init(path: sessionsPath, count: 0)
        )
        self.state = Mutex(State(snapshot: initial, heartbeatSeconds: heartbeatSeconds))
    }

    /// The tick interval changed (listeners restarted after a config change).
    func update(heartbeatSeconds: Int) {
        state.withLock { $0.heartbeatSeconds = heartbeatSeconds }
    }

    var current: (snapshot: HealthSnapshot, version: Int) {
        state.withLock { ($0.snapshot, $0.version) }
    }

    /// Installs a new snapshot and bumps the version.
    @discardableResult
    func update(_ snapshot: HealthSnapshot) -> (snapshot: HealthSnapshot, version: Int) {
        state.withLock { state in
            state.snapshot = snapshot
            state.version += 1
            return (snapshot, state.version)
        }
    }
}

/// Wall-clock milliseconds, the protocol's timestamp unit.
enum Clock {
    static func nowMs() -> Int { Int((Date().timeIntervalSince1970 * 1000).rounded()) }
}
