import ClawgateMesh
import ClawgateProtocol
import Foundation
import NIOCore
import Synchronization

/// Connects the mesh to live sockets: which connection acts for which agent, pushes of
/// deliveries (`mesh.delivery`) and of the namespace's event log (`mesh.event`).
final class MeshConnections: MeshPushSink {
    private let byAgent = Mutex<[String: [ConnectionHandle]]>([:])
    /// Connections that asked for live `mesh.event` pushes, by namespace.
    private let eventSubscribers = Mutex<[String: [ConnectionHandle]]>([:])
    /// ClawLink push sockets (`/ws/{agent_id}`), the other kind of live connection.
    let clawLink = ClawLinkHub()

    /// Makes the connection act for `agentId`. With `receivesPushes` false it only acts (a
    /// short-lived CLI command): deliveries keep going to the agent's other connections or wait
    /// for its poll, instead of being leased to a socket about to close. `receivesEvents` opts in
    /// to live `mesh.event` pushes of the namespace's log (off by default: every event to every
    /// agent of a namespace grows with the square of its size; the log is there to read).
    func bind(
        _ handle: ConnectionHandle, agentId: String, namespace: String, nowMs: Int, receivesPushes: Bool = true,
        receivesEvents: Bool = false
    ) {
        let previous = handle.meshBinding.withLock { binding -> MeshBinding? in
            defer { binding = MeshBinding(agentId: agentId, namespace: namespace, heartbeatPersistedAtMs: nowMs) }
            return binding
        }
        byAgent.withLock { map in
            if let previous {
                map[previous.agentId]?.removeAll { $0 === handle }
                if map[previous.agentId]?.isEmpty == true { map[previous.agentId] = nil }
            }
            guard receivesPushes else { return }
            var handles = map[agentId] ?? []
            if !handles.contains(where: { $0 === handle }) { handles.append(handle) }
            map[agentId] = handles
        }
        eventSubscribers.withLock { map in
            if let previous {
                map[previous.namespace]?.removeAll { $0 === handle }
                if map[previous.namespace]?.isEmpty == true { map[previous.namespace] = nil }
            }
            if receivesEvents { map[namespace, default: []].append(handle) }
        }
    }

    func unbind(_ handle: ConnectionHandle) {
        guard let binding = handle.meshBinding.withLock({ $0 }) else { return }
        byAgent.withLock { map in
            map[binding.agentId]?.removeAll { $0 === handle }
            if map[binding.agentId]?.isEmpty == true { map[binding.agentId] = nil }
        }
        eventSubscribers.withLock { map in
            map[binding.namespace]?.removeAll { $0 === handle }
            if map[binding.namespace]?.isEmpty == true { map[binding.namespace] = nil }
        }
    }

    /// Agents holding at least one live socket (gateway or ClawLink push socket).
    var connectedAgentCount: Int {
        let viaGateway = byAgent.withLock { Set($0.keys) }
        return viaGateway.union(clawLink.sockets.all.map(\.agentId)).count
    }

    func isConnected(agentId: String) -> Bool {
        byAgent.withLock { !($0[agentId]?.isEmpty ?? true) } || clawLink.isConnected(agentId: agentId)
    }

    /// One live connection of the recipient gets it (the newest); the lease brings it back if
    /// that connection dies before the agent answers. An agent without a gateway socket may
    /// have a ClawLink push socket.
    func push(_ delivery: MeshDelivery) {
        guard let handle = byAgent.withLock({ $0[delivery.recipient]?.last }) else {
            clawLink.push(delivery)
            return
        }
        // Encoded and queued on the socket's own event loop rather than here: the caller is the
        // mesh store's thread, which every mesh write waits for. Pushes to one connection keep
        // their order (an event loop runs its tasks in order); a push lost with its connection
        // comes back when its lease runs out.
        handle.eventLoop.execute {
            guard let payload = try? JSONCoding.encodeBytes(delivery) else { return }
            handle.sendEvent(
                prefix: FrameEncoder.eventPrefix(event: MeshGatewayEvent.delivery, payloadJSON: payload, stateVersion: nil),
                droppable: false)
        }
    }

    func publish(_ events: [MeshEvent]) {
        clawLink.publish(events)
        let handlesByNamespace = eventSubscribers.withLock { $0 }
        guard !handlesByNamespace.isEmpty else { return }
        for event in events {
            guard let targets = handlesByNamespace[event.namespace], !targets.isEmpty,
                let payload = try? JSONCoding.encodeBytes(event)
            else { continue }
            // Encoded once per event, stamped per connection. Droppable: the log is durable and
            // `mesh.events.since` fills any gap.
            let prefix = FrameEncoder.eventPrefix(event: MeshGatewayEvent.event, payloadJSON: payload, stateVersion: nil)
            for handle in targets { handle.sendEvent(prefix: prefix, droppable: true) }
        }
    }
}
