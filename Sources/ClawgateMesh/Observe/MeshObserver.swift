/// What the mesh reports as it works, for whoever measures it (the gateway's metrics).
///
/// The mesh stays free of any metrics library: the gateway injects an observer and turns these
/// calls into series. Calls are made after the change they report was committed, from inside the
/// `MeshService` actor, so an implementation must be quick and must not call back into the mesh.
public protocol MeshObserver: Sendable {
    /// An agent's message was processed (registration, heartbeat, task step, broadcast, …).
    func received(_ type: MeshMessageType)
    /// Deliveries were handed to their recipients: pushed to a live connection or returned by a
    /// poll. A redelivery after a lapsed lease is reported again.
    func sent(_ deliveries: [MeshDelivery])
    /// Their recipients settled these deliveries (acknowledged them, or answered an offer), at `nowMs`.
    func settled(_ deliveries: [MeshDelivery], nowMs: Int)
    /// A task was created or changed state (`previous` is nil for a new task).
    func taskChanged(_ task: MeshTask, previous: TaskState?)
    /// Agents left the registry: deregistered, or expired after `mesh.expireAfterMs` of silence.
    func agentsRemoved(_ agentIds: [String], expired: Bool)
}

/// The messages agents send to the mesh, by the seed-000 names where there is one.
public enum MeshMessageType: String, Sendable, CaseIterable {
    case register
    case heartbeat
    case taskOffer = "task_offer"
    case taskAccept = "task_accept"
    case taskReject = "task_reject"
    case taskUpdate = "task_update"
    case taskComplete = "task_complete"
    case taskFail = "task_fail"
    case taskCancel = "task_cancel"
    case poll
    case ack
    case broadcast
    case filePut = "file_put"
    case fileDelete = "file_delete"
    case stateSync = "state_sync"
    case deregister
}

/// Observes nothing: the default for a mesh nobody measures (tests, tools).
public struct NoMeshObserver: MeshObserver {
    public init() {}
    public func received(_ type: MeshMessageType) {}
    public func sent(_ deliveries: [MeshDelivery]) {}
    public func settled(_ deliveries: [MeshDelivery], nowMs: Int) {}
    public func taskChanged(_ task: MeshTask, previous: TaskState?) {}
    public func agentsRemoved(_ agentIds: [String], expired: Bool) {}
}
