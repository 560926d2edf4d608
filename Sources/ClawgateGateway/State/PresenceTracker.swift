import ClawgateProtocol
import Synchronization

/// Who is connected, as operators see it, with the presence `stateVersion` counter.
///
/// Entries are keyed by device id, else instance id, else connection id; CLI clients are not
/// tracked (they come and go with every command).
final class PresenceTracker: Sendable {
    private struct State {
        var entries: [String: (entry: PresenceEntry, connIds: Set<String>)] = [:]
        var version = 1
    }

    private let state = Mutex(State())
    let gatewayEntry: PresenceEntry

    init(gatewayEntry: PresenceEntry) {
        self.gatewayEntry = gatewayEntry
    }

    static func key(for entry: PresenceEntry, connId: String) -> String {
        entry.deviceId ?? entry.instanceId ?? connId
    }

    /// Adds a connection; returns the new version when the visible list changed.
    func connect(_ entry: PresenceEntry, connId: String) -> Int {
        let key = Self.key(for: entry, connId: connId)
        return state.withLock { state in
            var connIds = state.entries[key]?.connIds ?? []
            connIds.insert(connId)
            state.entries[key] = (entry, connIds)
            state.version += 1
            return state.version
        }
    }

    /// Removes a connection; returns the new version when the visible list changed.
    func disconnect(_ entry: PresenceEntry, connId: String) -> Int? {
        let key = Self.key(for: entry, connId: connId)
        return state.withLock { state in
            guard var current = state.entries[key] else { return nil }
            current.connIds.remove(connId)
            if current.connIds.isEmpty {
                state.entries[key] = nil
            } else {
                state.entries[key] = current
            }
            state.version += 1
            return state.version
        }
    }

    var entries: [PresenceEntry] {
        state.withLock { state in
            [gatewayEntry] + state.entries.values.map(\.entry).sorted { $0.ts < $1.ts }
        }
    }

    var version: Int { state.withLock { $0.version } }
}
