import ClawgateMesh
import ClawgateProtocol

/// The ClawLink side of live delivery, held by `MeshConnections` (the mesh's push sink): the
/// agents' push sockets and the ledger of what each agent was handed.
final class ClawLinkHub: Sendable {
    let sockets = ClawLinkSockets()
    let handouts = ClawLinkHandouts()

    func isConnected(agentId: String) -> Bool {
        sockets.socket(for: agentId) != nil
    }

    /// Pushes a committed (and leased) delivery to its recipient's socket as a relay message and
    /// records it as handed out; the agent's next frame or poll settles it. Without a socket the
    /// lease brings it back later.
    func push(_ delivery: MeshDelivery) {
        guard let socket = sockets.socket(for: delivery.recipient),
            socket.send(ClawLinkMessages.message(for: delivery))
        else { return }
        socket.notePushed(delivery.deliveryId)
        handouts.record(agentId: delivery.recipient, [.init(delivery)])
    }

    /// The relay's `agent_joined` notice, for push sockets only (like the relay: not queued).
    func publish(_ events: [MeshEvent]) {
        let joined = events.filter { $0.type == MeshEventType.agentRegistered && $0.namespace == ClawLinkRecords.namespace }
        guard !joined.isEmpty else { return }
        let targets = sockets.all
        guard !targets.isEmpty else { return }
        for event in joined {
            let agentId = event.payload["agentId"]?.stringValue ?? ""
            let notice: JSONValue = [
                "type": "agent_joined",
                "agent": ["agent_id": .string(agentId), "name": event.payload["name"] ?? .string(agentId)],
                "timestamp": .string(ClawLinkRecords.iso(event.createdAtMs)),
            ]
            for socket in targets where socket.agentId != agentId { socket.send(notice, droppable: true) }
        }
    }
}
