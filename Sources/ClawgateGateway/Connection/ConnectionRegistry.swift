import ClawgateProtocol
import Foundation
import Logging
import NIOCore
import Synchronization

/// All open connections: pending ones (before `connect`) and authenticated ones.
///
/// Broadcasts encode the event once and fan the bytes out to every connection allowed to see it.
public final class ConnectionRegistry: Sendable {
    private struct State {
        var pending: [String: OutboundQueue] = [:]
        var connections: [String: ConnectionHandle] = [:]
        var accepting = true
        var maxPending: Int
    }

    private let state: Mutex<State>
    let logger: Logger

    init(maxPending: Int, logger: Logger) {
        self.state = Mutex(State(maxPending: maxPending))
        self.logger = logger
    }

    /// Admits connections again after `shutdown`, for listeners restarted in process (a config
    /// change), with the new settings' limit on connections still in their handshake.
    func reopen(maxPending: Int) {
        state.withLock { state in
            state.accepting = true
            state.maxPending = maxPending
        }
    }

    enum AdmitResult {
        case admitted
        case tooManyPending
        case shuttingDown
    }

    func admitPending(connId: String, queue: OutboundQueue) -> AdmitResult {
        state.withLock { state in
            guard state.accepting else { return .shuttingDown }
            guard state.pending.count < state.maxPending else { return .tooManyPending }
            state.pending[connId] = queue
            return .admitted
        }
    }

    /// Moves a connection from pending to authenticated; false if the gateway is stopping.
    /// `beforeVisible` runs under the registry lock, before any broadcast can see the connection
    /// (used to queue hello-ok ahead of every event).
    func promote(_ handle: ConnectionHandle, beforeVisible: () -> Void) -> Bool {
        state.withLock { state in
            guard state.accepting else { return false }
            state.pending[handle.connId] = nil
            beforeVisible()
            state.connections[handle.connId] = handle
            return true
        }
    }

    /// Forgets a connection; returns its handle when it had been authenticated.
    @discardableResult
    func remove(connId: String) -> ConnectionHandle? {
        state.withLock { state in
            state.pending[connId] = nil
            return state.connections.removeValue(forKey: connId)
        }
    }

    var all: [ConnectionHandle] { state.withLock { Array($0.connections.values) } }
    var pendingCount: Int { state.withLock { $0.pending.count } }
    /// Authenticated connections.
    var count: Int { state.withLock { $0.connections.count } }
    var isAccepting: Bool { state.withLock { $0.accepting } }

    func connections(deviceId: String) -> [ConnectionHandle] {
        state.withLock { $0.connections.values.filter { $0.deviceId == deviceId } }
    }

    /// Encodes `payload` once and queues it on every connection allowed to see it.
    func broadcast<P: Encodable>(
        event: String, payload: P, stateVersion: StateVersion? = nil, droppable: Bool, requiredScope: String? = nil,
        requiredCap: String? = nil
    ) {
        let payloadJSON: Data
        do {
            payloadJSON = try JSONCoding.encode(payload)
        } catch {
            logger.error("cannot encode event", metadata: ["event": "\(event)", "error": "\(error)"])
            return
        }
        let prefix = FrameEncoder.eventPrefix(event: event, payloadJSON: payloadJSON, stateVersion: stateVersion)
        // Handed to each event loop once, with the loop's own sockets: every loop stamps and
        // queues its sockets' frames in parallel with the others, on the thread that writes
        // them, instead of this thread queueing one cross-thread job per socket (10,000 of them
        // for a tick at 10k connections). Two broadcasts from one thread keep their order on
        // every socket: a loop runs its jobs in order.
        let recipients = all.filter { connection in
            connection.mayReceive(requiredScope: requiredScope) && (requiredCap.map { connection.caps.contains($0) } ?? true)
        }
        Self.onEachLoop(recipients) { connection in connection.sendEvent(prefix: prefix, droppable: droppable) }
    }

    /// Runs `body` for each connection on its own event loop, one job per loop. Jobs from one
    /// thread run in order on every loop, so whatever goes out this way keeps its order on each
    /// socket: a shutdown's close cannot overtake an event broadcast just before it.
    private static func onEachLoop(_ connections: [ConnectionHandle], _ body: @escaping @Sendable (ConnectionHandle) -> Void) {
        var byLoop: [ObjectIdentifier: (loop: any EventLoop, connections: [ConnectionHandle])] = [:]
        for connection in connections {
            let loop = connection.eventLoop
            byLoop[ObjectIdentifier(loop), default: (loop, [])].connections.append(connection)
        }
        for (_, group) in byLoop {
            let connections = group.connections
            group.loop.execute {
                for connection in connections { body(connection) }
            }
        }
    }

    /// Stops admitting connections, tells every client why, and closes all sockets with 1012.
    func shutdown(reason: String, restartExpectedMs: Int?, timeout: Duration) async {
        let (connections, pending): ([ConnectionHandle], [OutboundQueue]) = state.withLock { state in
            state.accepting = false
            return (Array(state.connections.values), Array(state.pending.values))
        }
        let payload = ShutdownEvent(reason: reason, restartExpectedMs: restartExpectedMs)
        let prefix = (try? JSONCoding.encode(payload)).map {
            FrameEncoder.eventPrefix(event: GatewayEvent.shutdown, payloadJSON: $0, stateVersion: nil)
        }
        // Through the loops, like broadcasts: events broadcast before the shutdown (say the
        // `config.changed` that caused it) still reach every client before the close.
        Self.onEachLoop(connections) { connection in
            if let prefix { connection.sendEvent(prefix: prefix, droppable: false) }
            connection.close(code: GatewayCloseCode.serviceRestart, reason: "service restart")
            connection.scheduleHardClose(after: .seconds(3))
        }
        for queue in pending { queue.close(code: GatewayCloseCode.serviceRestart, reason: "service restart") }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while !isEmpty && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    var isEmpty: Bool { state.withLock { $0.pending.isEmpty && $0.connections.isEmpty } }
}
