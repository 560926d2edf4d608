import ClawgateProtocol
import Foundation
import NIOCore
import Synchronization

/// One live `/ws/{agent_id}` push socket: JSON text frames through a bounded outbound queue
/// (a reader that falls too far behind is closed as a slow consumer, like the gateway socket).
final class ClawLinkSocket: Sendable {
    let agentId: String
    let id = UUID()
    let queue: OutboundQueue
    /// Deliveries pushed here, newest last (bounded like the hand-out ledger).
    private let pushed = Mutex<[String]>([])

    init(agentId: String, bufferBytes: Int, metrics: OutboundQueueMetrics? = nil) {
        self.agentId = agentId
        self.queue = OutboundQueue(capacity: bufferBytes, metrics: metrics)
    }

    /// Queues a frame; false when the socket is closing or could not take it.
    @discardableResult
    func send(_ value: JSONValue, droppable: Bool = false) -> Bool {
        guard let data = try? JSONCoding.encode(value) else { return false }
        return queue.enqueue(ByteBuffer(bytes: data), droppable: droppable) == .queued
    }

    func notePushed(_ deliveryId: String) {
        pushed.withLock { ids in
            ids.append(deliveryId)
            if ids.count > ClawLinkHandouts.maxPerAgent { ids.removeFirst(ids.count - ClawLinkHandouts.maxPerAgent) }
        }
    }

    var pushedDeliveryIds: [String] { pushed.withLock { $0 } }

    func close(code: UInt16, reason: String) {
        queue.close(code: code, reason: reason)
    }
}
