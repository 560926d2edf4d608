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
        /// The snapshot as JSON, encoded on first use (`health` calls send the same bytes until
        /// the next refresh; encoding it was most of a `health` call's CPU).
        var encoded: Data?
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

    /// The current snapshot encoded as JSON, cached per version.
    func currentJSON() throws -> Data {
        let (snapshot, version, encoded) = state.withLock { ($0.snapshot, $0.version, $0.encoded) }
        if let encoded { return encoded }
        // Encoded outside the lock; kept only if no newer snapshot arrived meanwhile.
        let data = try JSONCoding.encode(snapshot)
        state.withLock { state in
            if state.version == version { state.encoded = data }
        }
        return data
    }

    /// Installs a new snapshot and bumps the version.
    @discardableResult
    func update(_ snapshot: HealthSnapshot) -> (snapshot: HealthSnapshot, version: Int) {
        state.withLock { state in
            state.snapshot = snapshot
            state.version += 1
            state.encoded = nil
            return (snapshot, state.version)
        }
    }
}

/// Wall-clock milliseconds, the protocol's timestamp unit.
enum Clock {
    static func nowMs() -> Int { Int((Date().timeIntervalSince1970 * 1000).rounded()) }
}
