import DequeModule
import NIOCore
import NIOWebSocket
import Synchronization

/// One connection's bounded outbound buffer, written straight onto the socket's channel.
///
/// Memory per connection is capped at `capacity` bytes (one frame may exceed it when the queue
/// is empty): frames count from the moment they are queued until the channel has written them
/// to the socket, so a peer that stops reading fills this budget whether its frames wait here or
/// in the channel's buffer. Two kinds of producers:
/// - responses come from the connection's own read loop, so they wait for room (`enqueueWaiting`):
///   a client that pipelines requests is slowed down to the pace it reads at, like TCP would,
///   and is cut off only when it reads nothing for the whole wait;
/// - broadcasts never wait: when the buffer is full, droppable events (ticks, presence, health)
///   are skipped and anything else closes the socket with 1008 "slow consumer".
///
/// Why no writer task per frame: handing each frame to a writer task and from there to the event
/// loop cost two thread hand-offs per response. Here whoever queues into an idle queue becomes
/// its submitter: it moves everything queued, in order, to the event loop in one hop and one
/// flush, while later producers only append (they see a submitter at work). The close frame is
/// handed to the socket's handler (which owns the close handshake) on the event loop, right
/// after every frame queued before it.
final class OutboundQueue: Sendable {
    enum Item: Sendable {
        case frame(OutboundFrame)
        case close(code: UInt16, reason: String)
    }

    enum EnqueueResult: Equatable {
        case queued
        case dropped
        /// The buffer is full of undeliverable data: the connection is being closed as a slow consumer.
        case overflow
        /// The connection is already closing.
        case closed
    }

    /// A close frame ready to send, everything before it submitted.
    struct CloseRequest: Sendable {
        var code: UInt16
        var reason: String
    }

    /// Sends the close frame; called on the channel's event loop after the frames before it.
    typealias CloseSender = @Sendable (CloseRequest) -> Void

    private struct State {
        var items: Deque<Item> = []
        /// Bytes queued here and not yet handed to the channel.
        var queuedBytes = 0
        /// Bytes handed to the channel whose write has not completed yet.
        var inFlightBytes = 0
        var highWaterBytes = 0
        /// The socket's channel, once attached (frames wait here until then).
        var channel: (any Channel)?
        var sendClose: CloseSender?
        /// Someone is moving queued frames to the channel; others only append.
        var submitting = false
        /// Batches handed to the event loop that it has not started writing yet.
        var scheduledWrites = 0
        var closing = false
        var finished = false
        var seq = 0
        var dropped = 0
        var spaceWaiter: CheckedContinuation<Void, Never>?

        var bytes: Int { queuedBytes + inFlightBytes }

        func hasRoom(for size: Int, capacity: Int) -> Bool {
            bytes == 0 || bytes + size <= capacity
        }

        /// Queues `item`; true when the caller must become the submitter.
        mutating func append(_ item: Item) -> Bool {
            items.append(item)
            if case .frame(let frame) = item {
                queuedBytes += frame.byteCount
                highWaterBytes = max(highWaterBytes, bytes)
            }
            guard !submitting, channel != nil else { return false }
            submitting = true
            return true
        }

        mutating func takeSpaceWaiter() -> CheckedContinuation<Void, Never>? {
            defer { spaceWaiter = nil }
            return spaceWaiter
        }
    }

    let capacity: Int
    private let state = Mutex(State())
    /// Where skipped events and slow-consumer closes are counted (nil: nowhere).
    private let metrics: OutboundQueueMetrics?

    init(capacity: Int, metrics: OutboundQueueMetrics? = nil) {
        self.capacity = capacity
        self.metrics = metrics
    }

    func enqueue(_ buffer: ByteBuffer, droppable: Bool = false) -> EnqueueResult {
        enqueue(droppable: droppable) { _ in OutboundFrame(buffer) }
    }

    /// Enqueues an event frame, stamping it with the next per-connection `seq` under the lock so
    /// that sequence numbers follow delivery order. `build` receives the seq.
    func enqueueEvent(droppable: Bool, build: (Int) -> OutboundFrame) -> EnqueueResult {
        enqueue(droppable: droppable, stampSeq: true, build)
    }

    private func enqueue(droppable: Bool, stampSeq: Bool = false, _ build: (Int) -> OutboundFrame) -> EnqueueResult {
        let (result, submit): (EnqueueResult, Bool) = state.withLock { state in
            guard !state.closing else { return (.closed, false) }
            if stampSeq { state.seq += 1 }
            let frame = build(state.seq)
            if !state.hasRoom(for: frame.byteCount, capacity: capacity) {
                if droppable {
                    state.dropped += 1
                    return (.dropped, false)
                }
                return (.overflow, false)
            }
            return (.queued, state.append(.frame(frame)))
        }
        if submit { submitQueued() }
        if result == .dropped { metrics?.droppedEvents.increment() }
        return result == .overflow ? overflow() : result
    }

    /// Queues a response, waiting up to `timeout` for the socket to take queued bytes; a reader
    /// that takes nothing for that long is closed as a slow consumer (`.overflow`).
    func enqueueWaiting(_ buffer: ByteBuffer, timeout: Duration) async -> EnqueueResult {
        let frame = OutboundFrame(buffer)
        var deadline: ContinuousClock.Instant?
        while true {
            let (result, submit): (EnqueueResult?, Bool) = state.withLock { state in
                guard !state.closing else { return (.closed, false) }
                guard state.hasRoom(for: frame.byteCount, capacity: capacity) else { return (nil, false) }
                return (.queued, state.append(.frame(frame)))
            }
            if submit { submitQueued() }
            if let result { return result }
            // The clock is read only when the buffer is full, not for every response.
            let due = deadline ?? ContinuousClock.now.advanced(by: timeout)
            deadline = due
            let remaining = due - ContinuousClock.now
            guard remaining > .zero else { return overflow() }
            await waitForSpace(atMost: remaining)
        }
    }

    private func waitForSpace(atMost timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let ready = self.state.withLock { state -> Bool in
                        // Cancelled already (the timeout won before we got here): do not park.
                        if state.closing || state.bytes == 0 || Task.isCancelled { return true }
                        state.spaceWaiter = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            // Whichever finished first, release the other: cancel first, so a waiter that has not
            // parked yet sees the cancellation, then wake one that has.
            group.cancelAll()
            state.withLock { $0.takeSpaceWaiter() }?.resume()
        }
    }

    /// Moves queued frames to the channel until the queue is empty, each batch in one event-loop
    /// hop with one flush. Only the current submitter runs this; a close item ends the frames
    /// and goes to the handler after them.
    private func submitQueued() {
        while true {
            let (batch, channel, close): ([OutboundFrame], (any Channel)?, CloseRequest?) = state.withLock { state in
                guard !state.finished, let channel = state.channel else {
                    state.submitting = false
                    return ([], nil, nil)
                }
                var batch: [OutboundFrame] = []
                var close: CloseRequest?
                while let item = state.items.popFirst() {
                    switch item {
                    case .frame(let frame):
                        batch.append(frame)
                        state.queuedBytes -= frame.byteCount
                        state.inFlightBytes += frame.byteCount
                    case .close(let code, let reason):
                        close = CloseRequest(code: code, reason: reason)
                    }
                    if close != nil { break }
                }
                if batch.isEmpty && close == nil {
                    state.submitting = false
                    return ([], nil, nil)
                }
                return (batch, channel, close)
            }
            guard let channel else { return }
            write(batch, close: close, to: channel)
            if close != nil {
                state.withLock { $0.submitting = false }
                return
            }
        }
    }

    /// Writes frames in order on the channel's event loop, flushing once; their bytes are
    /// released when written. On the loop itself (a broadcast hands each loop its own sockets)
    /// the batch is written at once when no earlier batch still waits in the loop's queue;
    /// otherwise it goes through `execute`, behind the earlier ones, so batches keep their order.
    private func write(_ batch: [OutboundFrame], close: CloseRequest?, to channel: any Channel) {
        let bytes = batch.reduce(0) { $0 + $1.byteCount }
        if channel.eventLoop.inEventLoop, state.withLock({ $0.scheduledWrites == 0 }) {
            writeNow(batch, bytes: bytes, close: close, to: channel)
            return
        }
        state.withLock { $0.scheduledWrites += 1 }
        channel.eventLoop.execute {
            self.state.withLock { $0.scheduledWrites -= 1 }
            self.writeNow(batch, bytes: bytes, close: close, to: channel)
        }
    }

    /// Must run on the channel's event loop.
    private func writeNow(_ batch: [OutboundFrame], bytes: Int, close: CloseRequest?, to channel: any Channel) {
        // The close frame follows the frames before it on the wire.
        defer {
            if let close, let sendClose = state.withLock({ $0.sendClose }) { sendClose(close) }
        }
        guard !batch.isEmpty else { return }
        let written = channel.eventLoop.makePromise(of: Void.self)
        for (index, frame) in batch.enumerated() {
            // The shared part goes out as the frame's leading bytes (`extensionData`: no
            // extension is negotiated, so it is plain payload), written from the one buffer
            // every recipient shares.
            let wsFrame = WebSocketFrame(fin: true, opcode: .text, data: frame.own, extensionData: frame.shared)
            channel.write(wsFrame, promise: index == batch.count - 1 ? written : nil)
        }
        channel.flush()
        written.futureResult.whenComplete { result in
            switch result {
            case .success: self.released(bytes: bytes)
            // The socket is gone: nothing more can be written.
            case .failure: self.finish()
            }
        }
    }

    /// The channel finished writing `bytes`: room for more.
    private func released(bytes: Int) {
        let spaceWaiter = state.withLock { state in
            state.inFlightBytes -= bytes
            return state.takeSpaceWaiter()
        }
        spaceWaiter?.resume()
    }

    /// Drops what is queued and leaves only the slow-consumer close frame.
    private func overflow() -> EnqueueResult {
        let (closedNow, submit, spaceWaiter): (Bool, Bool, CheckedContinuation<Void, Never>?) = state.withLock { state in
            guard !state.closing else { return (false, false, nil) }
            state.items.removeAll()
            state.queuedBytes = 0
            state.closing = true
            let submit = state.append(.close(code: 1008, reason: "slow consumer"))
            return (true, submit, state.takeSpaceWaiter())
        }
        if closedNow { metrics?.slowConsumerCloses.increment() }
        spaceWaiter?.resume()
        if submit { submitQueued() }
        return .overflow
    }

    /// Queues a close frame after everything already queued; later enqueues are refused.
    ///
    /// `lastFrame` (say the error answering a refused `connect`) is queued in the same step, so
    /// that it and the close frame are written in one event-loop turn: a peer that closes as soon
    /// as it reads the frame cannot get its close in first, which would make the gateway echo the
    /// peer's code (1000) instead of sending its own code and reason.
    func close(code: UInt16, reason: String, after lastFrame: ByteBuffer? = nil) {
        let (submit, spaceWaiter): (Bool, CheckedContinuation<Void, Never>?) = state.withLock { state in
            guard !state.closing else { return (false, nil) }
            state.closing = true
            var submit = false
            if let lastFrame {
                let frame = OutboundFrame(lastFrame)
                // Bounded like any frame: with no room, only the close goes out.
                if state.hasRoom(for: frame.byteCount, capacity: capacity) { submit = state.append(.frame(frame)) }
            }
            // The first append may have made the caller the submitter; the second then says false.
            submit = state.append(.close(code: code, reason: reason)) || submit
            return (submit, state.takeSpaceWaiter())
        }
        spaceWaiter?.resume()
        if submit { submitQueued() }
    }

    /// The socket is gone: nothing queued is sent any more and later frames are refused.
    func finish() {
        let spaceWaiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            state.closing = true
            state.finished = true
            state.items.removeAll()
            state.queuedBytes = 0
            // The close sender leads back to the socket's handler, which holds the session
            // that holds this queue: let go of it so the three can be freed.
            state.sendClose = nil
            return state.takeSpaceWaiter()
        }
        spaceWaiter?.resume()
    }

    /// Gives the queue its socket: frames queued so far, and all later ones, go out on `channel`;
    /// the close frame goes to `sendClose`.
    func attach(_ channel: any Channel, sendClose: @escaping CloseSender) {
        let submit = state.withLock { state -> Bool in
            state.channel = channel
            state.sendClose = sendClose
            guard !state.submitting, !state.items.isEmpty else { return false }
            state.submitting = true
            return true
        }
        if submit { submitQueued() }
    }

    var isClosing: Bool { state.withLock { $0.closing } }

    /// Observed peak of queued bytes (for tests and metrics).
    var highWaterBytes: Int { state.withLock { $0.highWaterBytes } }
    var droppedCount: Int { state.withLock { $0.dropped } }
}
