import ClawgateProtocol
import OrderedCollections
import Synchronization

/// Who is connected, as operators see it, with the presence `stateVersion` counter.
///
/// Entries are keyed by device id, else instance id, else connection id; CLI clients are not
/// tracked (they come and go with every command). Kept in connection order, so the newest
/// entries are the cheap suffix that events and snapshots carry.
final class PresenceTracker: Sendable {
    /// How many entries `presence` events and `hello-ok` snapshots list at most: the gateway's
    /// own entry and the most recently connected clients. Every connection gets each list, so an
    /// uncapped list costs O(connections²) bytes; `system-presence` still returns all of them.
    static let maxListed = 200

    private struct Tracked {
        var entry: PresenceEntry
        var connIds: Set<String>
    }

    private struct State {
        var entries: OrderedDictionary<String, Tracked> = [:]
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

    /// Adds a connection (moving its entry to the newest position); returns the new version.
    func connect(_ entry: PresenceEntry, connId: String) -> Int {
        let key = Self.key(for: entry, connId: connId)
        return state.withLock { state in
            var connIds = state.entries.removeValue(forKey: key)?.connIds ?? []
            connIds.insert(connId)
            state.entries[key] = Tracked(entry: entry, connIds: connIds)
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
                state.entries.removeValue(forKey: key)
            } else {
                state.entries[key] = current
            }
            state.version += 1
            return state.version
        }
    }

    /// Every entry, the gateway first, then clients oldest first (`system-presence`).
    var entries: [PresenceEntry] {
        state.withLock { state in [gatewayEntry] + state.entries.values.map(\.entry) }
    }

    /// The list events and snapshots carry, with its version read under the same lock.
    var listed: (entries: [PresenceEntry], version: Int) {
        state.withLock { state in
            ([gatewayEntry] + state.entries.values.suffix(Self.maxListed - 1).map(\.entry), state.version)
        }
    }

    /// Entries including the gateway's own.
    var count: Int { state.withLock { $0.entries.count + 1 } }

    var version: Int { state.withLock { $0.version } }
}
