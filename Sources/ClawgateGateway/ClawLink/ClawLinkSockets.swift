import Synchronization

/// The live push socket of each agent. The newest connection wins: attaching a socket for an
/// agent that already has one closes the older one.
final class ClawLinkSockets: Sendable {
    private let byAgent = Mutex<[String: ClawLinkSocket]>([:])

    /// Makes `socket` its agent's push socket; returns the one it replaces.
    func attach(_ socket: ClawLinkSocket) -> ClawLinkSocket? {
        byAgent.withLock { map in
            defer { map[socket.agentId] = socket }
            return map[socket.agentId]
        }
    }

    /// Removes `socket` if it is still its agent's push socket.
    func detach(_ socket: ClawLinkSocket) {
        byAgent.withLock { map in
            if map[socket.agentId] === socket { map[socket.agentId] = nil }
        }
    }

    func socket(for agentId: String) -> ClawLinkSocket? {
        byAgent.withLock { $0[agentId] }
    }

    var all: [ClawLinkSocket] {
        byAgent.withLock { Array($0.values) }
    }
}
