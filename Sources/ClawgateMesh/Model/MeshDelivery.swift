import ClawgateProtocol

/// A message held for one agent until it is acknowledged: a task offer, a task result, or a
/// notification. Delivery is at least once: pushed when the agent is connected, otherwise
/// collected by a poll, and offered again when its lease runs out unacknowledged.
public struct MeshDelivery: Codable, Sendable, Equatable {
    public var deliveryId: String
    public var namespace: String
    public var recipient: String
    public var kind: DeliveryKind
    public var taskId: String?
    public var payload: JSONValue
    public var createdAtMs: Int
    /// Times it was handed out (push or poll).
    public var attempts: Int
    /// Not handed out again before this time (nil: available now).
    public var leaseUntilMs: Int?

    public init(
        deliveryId: String, namespace: String, recipient: String, kind: DeliveryKind, taskId: String?, payload: JSONValue,
        createdAtMs: Int, attempts: Int = 0, leaseUntilMs: Int? = nil
    ) {
        self.deliveryId = deliveryId
        self.namespace = namespace
        self.recipient = recipient
        self.kind = kind
        self.taskId = taskId
        self.payload = payload
        self.createdAtMs = createdAtMs
        self.attempts = attempts
        self.leaseUntilMs = leaseUntilMs
    }

    public func isAvailable(nowMs: Int) -> Bool {
        (leaseUntilMs ?? Int.min) <= nowMs
    }
}

public enum DeliveryKind: String, Codable, Sendable, CaseIterable {
    /// A task offered to its recipient; answered by accept or reject.
    case taskOffer = "task_offer"
    /// A task's outcome for its delegator; answered by ack.
    case taskResult = "task_result"
    /// The delegator canceled a task the recipient holds; answered by ack.
    case taskCanceled = "task_canceled"
    /// A knowledge broadcast; answered by ack.
    case broadcast = "knowledge_broadcast"
    /// A shared file changed; answered by ack.
    case fileUpdated = "file_updated"
}
