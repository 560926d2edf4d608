import DequeModule
import NIOCore
import Synchronization

/// One connection's bounded outbound buffer, drained by a single writer task.
///
/// Producers (responses, broadcasts) never wait: when the reader is slow, droppable events
/// (ticks, presence, health) are skipped and anything else closes the socket with
/// 1008 "slow consumer" — memory per connection is capped at `capacity` bytes.
final class OutboundQueue: Sendable {
    enum Item: Sendable {
        case frame(ByteBuffer)
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
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = capacity
    }

    func enqueue(_ buffer: ByteBuffer, droppable: Bool = false) -> EnqueueResult {
        enqueue(droppable: droppable) { _ in buffer }
    }

    /// Enqueues an event frame, stamping it with the next per-connection `seq` under the lock so
    /// that sequence numbers follow delivery order. `build` receives the seq.
    func enqueueEvent(droppable: Bool, build: (Int) -> ByteBuffer) -> EnqueueResult {
        enqueue(droppable: droppable, stampSeq: true, build)
    }

    private func enqueue(droppable: Bool, stampSeq: Bool = false, _ build: (Int) -> ByteBuffer) -> EnqueueResult {
        let (result, resume): (EnqueueResult, (CheckedContinuation<Item?, Never>, Item)?) = state.withLock { state in
            guard !state.closing else { return (.closed, nil) }
            if stampSeq { state.seq += 1 }
            let buffer = build(state.seq)
            let size = buffer.readableBytes
            if state.bytes + size > capacity {
                if droppable {
                    state.dropped += 1
                    return (.dropped, nil)
                }
                // Slow consumer: free what is queued and leave only the close frame.
                state.items.removeAll()
                state.bytes = 0
                state.closing = true
                let close = Item.close(code: 1008, reason: "slow consumer")
                if let waiter = state.waiter {
                    state.waiter = nil
                    return (.overflow, (waiter, close))
                }
                state.items.append(close)
                return (.overflow, nil)
            }
            let item = Item.frame(buffer)
            if let waiter = state.waiter {
                state.waiter = nil
                return (.queued, (waiter, item))
            }
            state.items.append(item)
            state.bytes += size
            state.highWaterBytes = max(state.highWaterBytes, state.bytes)
            return (.queued, nil)
        }
        if let (waiter, item) = resume { waiter.resume(returning: item) }
        return result
    }

    /// Queues a close frame after everything already queued; later enqueues are refused.
    func close(code: UInt16, reason: String) {
        let waiter: CheckedContinuation<Item?, Never>? = state.withLock { state in
            guard !state.closing else { return nil }
            state.closing = true
            let item = Item.close(code: code, reason: reason)
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.items.append(item)
            return nil
        }
        waiter?.resume(returning: .close(code: code, reason: reason))
    }

    /// Ends the writer: `next()` returns nil from now on.
    func finish() {
        let waiter: CheckedContinuation<Item?, Never>? = state.withLock { state in
            state.closing = true
            state.finished = true
            state.items.removeAll()
            state.bytes = 0
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The next item to write, waiting for one; nil once finished.
    func next() async -> Item? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Item?, Never>) in
            let ready: Item?? = state.withLock { state in
                if state.finished { return .some(nil) }
                if let item = state.items.popFirst() {
                    if case .frame(let buffer) = item { state.bytes -= buffer.readableBytes }
                    return .some(item)
                }
                state.waiter = continuation
                return .none
            }
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
