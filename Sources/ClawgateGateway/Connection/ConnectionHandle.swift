import ClawgateProtocol
import NIOCore
import Synchronization

/// What the rest of the gateway knows about one authenticated connection: who it is, what it
/// may see, and its outbound queue.
public final class ConnectionHandle: Sendable {
    public let connId: String
    public let role: GatewayRole
    public let scopes: Set<String>
    public let caps: Set<String>
    public let clientId: String
    public let clientMode: String
    public let deviceId: String?
    public let protocolVersion: Int
    public let remoteIP: String?
    public let connectedAtMs: Int
    let presence: PresenceEntry?
    let queue: OutboundQueue
    private let channel: any Channel
    /// The mesh agent this connection acts for, once `mesh.register` bound it.
    let meshBinding = Mutex<MeshBinding?>(nil)
    var isMeshAgent: Bool { meshBinding.withLock { $0 != nil } }
    /// Requests answered later (`agent.wait`, `agent` finals) still open on this connection.
    private let deferredCount = Mutex(0)
    /// Most deferred requests one connection may hold open: each holds a task.
    static let maxDeferred = 64

    init(
        connId: String, role: GatewayRole, scopes: Set<String>, caps: Set<String>, clientId: String, clientMode: String,
        deviceId: String?, protocolVersion: Int, remoteIP: String?, connectedAtMs: Int, presence: PresenceEntry?,
        queue: OutboundQueue, channel: any Channel
    ) {
        self.connId = connId
        self.role = role
        self.scopes = scopes
        self.caps = caps
        self.clientId = clientId
        self.clientMode = clientMode
        self.deviceId = deviceId
        self.protocolVersion = protocolVersion
        self.remoteIP = remoteIP
        self.connectedAtMs = connectedAtMs
        self.presence = presence
        self.queue = queue
        self.channel = channel
    }

    /// Takes a slot for a request answered later; false when the connection holds too many.
    func beginDeferred() -> Bool {
        deferredCount.withLock { count in
            guard count < Self.maxDeferred else { return false }
            count += 1
            return true
        }
    }

    func endDeferred() {
        deferredCount.withLock { $0 = max(0, $0 - 1) }
    }

    /// Whether this connection may receive an event that requires `scope` (nil: everyone).
    func mayReceive(requiredScope: String?) -> Bool {
        guard let requiredScope else { return true }
        return role == .operator && OperatorScope.satisfies(granted: scopes, required: requiredScope)
    }

    /// Sends a response or event; a full buffer closes the connection as a slow consumer.
    @discardableResult
    func send(_ buffer: ByteBuffer) -> OutboundQueue.EnqueueResult {
        let result = queue.enqueue(buffer)
        if result == .overflow { scheduleHardClose() }
        return result
    }

    /// Sends the answer to one of this connection's own requests: waits for room (the client's
    /// read pace throttles its request pace) and closes it as a slow consumer only if it reads
    /// nothing for `timeout`.
    @discardableResult
    func sendResponse(_ buffer: ByteBuffer, timeout: Duration) async -> OutboundQueue.EnqueueResult {
        let result = await queue.enqueueWaiting(buffer, timeout: timeout)
        if result == .overflow { scheduleHardClose() }
        return result
    }

    /// The connection's event loop, where work for this socket alone can run.
    var eventLoop: any EventLoop { channel.eventLoop }

    /// Completes when the socket has closed.
    var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    @discardableResult
    func sendEvent(prefix: ByteBuffer, droppable: Bool) -> OutboundQueue.EnqueueResult {
        let result = queue.enqueueEvent(droppable: droppable) { FrameEncoder.stamp(prefix, seq: $0) }
        if result == .overflow { scheduleHardClose() }
        return result
    }

    func close(code: UInt16, reason: String) {
        queue.close(code: code, reason: reason)
    }

    /// A reader that does not drain its socket would never see the close frame; cut it off.
    func scheduleHardClose(after delay: TimeAmount = .seconds(2)) {
        let channel = self.channel
        channel.eventLoop.scheduleTask(in: delay) { channel.close(promise: nil) }
    }
}

/// Which mesh agent a connection acts for, and when its heartbeat was last written.
struct MeshBinding: Sendable {
    var agentId: String
    var namespace: String
    var heartbeatPersistedAtMs: Int
}
