import ClawgateMesh
import ClawgateProtocol
import Foundation
import NIOCore
import Synchronization

/// Connects the mesh to live sockets: which connection acts for which agent, pushes of
/// deliveries (`mesh.delivery`) and of the namespace's event log (`mesh.event`).
final class MeshConnections: MeshPushSink {
    private let byAgent = Mutex<[String: [ConnectionHandle]]>([:])
    /// ClawLink push sockets (`/ws/{agent_id}`), the other kind of live connection.
    let clawLink = ClawLinkHub()

    /// Makes the connection act for `agentId`. With `receivesPushes` false it only acts (a
    /// short-lived CLI command): deliveries and events keep going to the agent's other
    /// connections or wait for its poll, instead of being leased to a socket about to close.
    func bind(_ handle: ConnectionHandle, agentId: String, namespace: String, nowMs: Int, receivesPushes: Bool = true) {
        let previous = handle.meshBinding.withLock { binding -> String? in
            defer { binding = MeshBinding(agentId: agentId, namespace: namespace, heartbeatPersistedAtMs: nowMs) }
            return binding?.agentId
        }
        byAgent.withLock { map in
            if let previous {
                map[previous]?.removeAll { $0 === handle }
                if map[previous]?.isEmpty == true { map[previous] = nil }
            }
            guard receivesPushes else { return }
            var handles = map[agentId] ?? []
            if !handles.contains(where: { $0 === handle }) { handles.append(handle) }
            map[agentId] = handles
        }
    }

    func unbind(_ handle: ConnectionHandle) {
        guard let agentId = handle.meshBinding.withLock({ $0?.agentId }) else { return }
        byAgent.withLock { map in
            map[agentId]?.removeAll { $0 === handle }
            if map[agentId]?.isEmpty == true { map[agentId] = nil }
        }
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
        guard let payload = try? JSONCoding.encode(delivery) else { return }
        handle.sendEvent(prefix: FrameEncoder.eventPrefix(event: MeshGatewayEvent.delivery, payloadJSON: payload, stateVersion: nil), droppable: false)
    }

    func publish(_ events: [MeshEvent]) {
        clawLink.publish(events)
        let handlesByNamespace: [String: [ConnectionHandle]] = byAgent.withLock { map in
            var result: [String: [ConnectionHandle]] = [:]
            for handles in map.values {
                for handle in handles {
                    if let namespace = handle.meshBinding.withLock({ $0?.namespace }) { result[namespace, default: []].append(handle) }
                }
            }
            return result
        }
        for event in events {
            guard let targets = handlesByNamespace[event.namespace], !targets.isEmpty,
                let payload = try? JSONCoding.encode(event)
            else { continue }
            // Encoded once per event, stamped per connection. Droppable: the log is durable and
            // `mesh.events.since` fills any gap.
            let prefix = FrameEncoder.eventPrefix(event: MeshGatewayEvent.event, payloadJSON: payload, stateVersion: nil)
            for handle in targets { handle.sendEvent(prefix: prefix, droppable: true) }
        }
    }
}
