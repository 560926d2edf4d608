import DequeModule
import NIOCore
import Synchronization

/// One connection's bounded outbound buffer, drained by a single writer task.
///
/// Memory per connection is capped at `capacity` bytes (one frame may exceed it when the queue
/// is empty). Two kinds of producers:
/// - responses come from the connection's own read loop, so they wait for room (`enqueueWaiting`):
///   a client that pipelines requests is slowed down to the pace it reads at, like TCP would,
///   and is cut off only when it reads nothing for the whole wait;
/// - broadcasts never wait: when the buffer is full, droppable events (ticks, presence, health)
///   are skipped and anything else closes the socket with 1008 "slow consumer".
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

    private struct State {
        var items: Deque<Item> = []
        var bytes = 0
        var highWaterBytes = 0
        var waiter: CheckedContinuation<Item?, Never>?
        var closing = false
        var finished = false
        var seq = 0
        var dropped = 0
        var writerDone = false
        var spaceWaiter: CheckedContinuation<Void, Never>?

        func hasRoom(for size: Int, capacity: Int) -> Bool {
            bytes == 0 || bytes + size <= capacity
        }

        /// Hands the frame to a waiting writer (returned, to be resumed outside the lock) or queues it.
        mutating func deliver(_ frame: OutboundFrame) -> CheckedContinuation<Item?, Never>? {
            if let waiter {
                self.waiter = nil
                return waiter
            }
            items.append(.frame(frame))
            bytes += frame.byteCount
            highWaterBytes = max(highWaterBytes, bytes)
            return nil
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
        let (result, resume): (EnqueueResult, (CheckedContinuation<Item?, Never>, OutboundFrame)?) = state.withLock { state in
            guard !state.closing else { return (.closed, nil) }
            if stampSeq { state.seq += 1 }
            let buffer = build(state.seq)
            let size = buffer.byteCount
            if !state.hasRoom(for: size, capacity: capacity) {
                if droppable {
                    state.dropped += 1
                    return (.dropped, nil)
                }
                return (.overflow, nil)
            }
            return (.queued, state.deliver(buffer).map { ($0, buffer) })
        }
        if let (waiter, buffer) = resume { waiter.resume(returning: .frame(buffer)) }
        if result == .dropped { metrics?.droppedEvents.increment() }
        return result == .overflow ? overflow() : result
    }

    /// Queues a response, waiting up to `timeout` for the writer to make room; a reader that takes
    /// nothing for that long is closed as a slow consumer (`.overflow`).
    func enqueueWaiting(_ buffer: ByteBuffer, timeout: Duration) async -> EnqueueResult {
        let frame = OutboundFrame(buffer)
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let (result, waiter): (EnqueueResult?, CheckedContinuation<Item?, Never>?) = state.withLock { state in
                guard !state.closing else { return (.closed, nil) }
                guard state.hasRoom(for: buffer.readableBytes, capacity: capacity) else { return (nil, nil) }
                return (.queued, state.deliver(frame))
            }
            if let waiter { waiter.resume(returning: .frame(frame)) }
            if let result { return result }
            let remaining = deadline - ContinuousClock.now
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

    /// Drops what is queued and leaves only the slow-consumer close frame.
    private func overflow() -> EnqueueResult {
        let (closedNow, waiter, spaceWaiter): (Bool, CheckedContinuation<Item?, Never>?, CheckedContinuation<Void, Never>?) =
            state.withLock { state in
                guard !state.closing else { return (false, nil, nil) }
                state.items.removeAll()
                state.bytes = 0
                state.closing = true
                if let waiter = state.waiter {
                    state.waiter = nil
                    return (true, waiter, state.takeSpaceWaiter())
                }
                state.items.append(.close(code: 1008, reason: "slow consumer"))
                return (true, nil, state.takeSpaceWaiter())
            }
        if closedNow { metrics?.slowConsumerCloses.increment() }
        spaceWaiter?.resume()
        waiter?.resume(returning: .close(code: 1008, reason: "slow consumer"))
        return .overflow
    }

    /// Queues a close frame after everything already queued; later enqueues are refused.
    func close(code: UInt16, reason: String) {
        let (waiter, spaceWaiter): (CheckedContinuation<Item?, Never>?, CheckedContinuation<Void, Never>?) = state.withLock { state in
            guard !state.closing else { return (nil, nil) }
            state.closing = true
            let item = Item.close(code: code, reason: reason)
            if let waiter = state.waiter {
                state.waiter = nil
                return (waiter, state.takeSpaceWaiter())
            }
            state.items.append(item)
            return (nil, state.takeSpaceWaiter())
        }
        spaceWaiter?.resume()
        waiter?.resume(returning: .close(code: code, reason: reason))
    }

    /// Ends the writer: `next()` returns nil from now on.
    func finish() {
        let (waiter, spaceWaiter): (CheckedContinuation<Item?, Never>?, CheckedContinuation<Void, Never>?) = state.withLock { state in
            state.closing = true
            state.finished = true
            state.items.removeAll()
            state.bytes = 0
            defer { state.waiter = nil }
            return (state.waiter, state.takeSpaceWaiter())
        }
        spaceWaiter?.resume()
        waiter?.resume(returning: nil)
    }

    /// The next item to write, waiting for one; nil once finished.
    func next() async -> Item? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Item?, Never>) in
            let (ready, spaceWaiter): (Item??, CheckedContinuation<Void, Never>?) = state.withLock { state in
                if state.finished { return (.some(nil), state.takeSpaceWaiter()) }
                if let item = state.items.popFirst() {
                    if case .frame(let frame) = item { state.bytes -= frame.byteCount }
                    return (.some(item), state.takeSpaceWaiter())
                }
                state.waiter = continuation
                return (.none, state.takeSpaceWaiter())
            }
            spaceWaiter?.resume()
            if let ready { continuation.resume(returning: ready) }
        }
    }

    var isClosing: Bool { state.withLock { $0.closing } }

    /// Set by the writer task when it has written its last frame (or given up).
    func markWriterDone() { state.withLock { $0.writerDone = true } }
    var writerDone: Bool { state.withLock { $0.writerDone } }

    /// Observed peak of queued bytes (for tests and metrics).
    var highWaterBytes: Int { state.withLock { $0.highWaterBytes } }
    var droppedCount: Int { state.withLock { $0.dropped } }
}
