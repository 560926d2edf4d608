import ServiceLifecycle
import Synchronization

/// In-process restarts of the listeners, asked for by config changes that need one (port, bind,
/// auth mode, ...). The gateway's state (connections registry, mesh, agents, pairing) stays;
/// the listeners and the tick/health timers stop gracefully and start again with the settings
/// in force.
final class ListenerRestarts: Sendable {
    struct Request: Sendable, Equatable {
        /// What the clients are told in the `shutdown` event.
        var reason: String
        /// The settings version the restart must run with (or a newer one).
        var settingsVersion: Int
    }

    /// How long clients are told to expect the gateway to be away.
    static let expectedDowntimeMs = 1500

    private struct State {
        var running: (group: ServiceGroup, settingsVersion: Int)?
        var pending: Request?
        var count = 0
    }

    private let state = Mutex(State())

    /// Asks the running listeners to restart; if none run yet, the next ones started with an
    /// older settings version restart at once.
    func request(_ request: Request) {
        let group: ServiceGroup? = state.withLock { state in
            if let pending = state.pending, pending.settingsVersion >= request.settingsVersion { return nil }
            // Listeners already running with these settings need nothing.
            if let running = state.running, running.settingsVersion >= request.settingsVersion { return nil }
            state.pending = request
            return state.running?.group
        }
        if let group {
            Task { await group.triggerGracefulShutdown() }
        }
    }

    /// The listeners of `group` started with `settingsVersion`; a pending request they already
    /// satisfy is dropped, one they do not is carried out now.
    func started(_ group: ServiceGroup, settingsVersion: Int) {
        let restartNow: Bool = state.withLock { state in
            state.running = (group, settingsVersion)
            guard let pending = state.pending else { return false }
            if pending.settingsVersion <= settingsVersion {
                state.pending = nil
                return false
            }
            return true
        }
        if restartNow {
            Task { await group.triggerGracefulShutdown() }
        }
    }

    /// The restart the running listeners are stopping for, or nil for a final stop.
    var pending: Request? { state.withLock { $0.pending } }

    /// The listeners stopped; returns the restart to carry out, if any.
    func stopped() -> Request? {
        state.withLock { state in
            state.running = nil
            guard let pending = state.pending else { return nil }
            state.count += 1
            return pending
        }
    }

    /// In-process restarts so far.
    var count: Int { state.withLock { $0.count } }
}
