import ClawgateProtocol
import NIOCore
import NIOPosix
import Synchronization

/// The requests in flight on one connection, each waiting for its response, with one timer for
/// all their timeouts.
///
/// Why not a task group per request (a waiter child and a `Task.sleep` child): that costs two
/// task creations, a sleep timer and several thread hand-offs per round trip, which dominated a
/// small RPC. Here a request is a dictionary entry and one continuation; a single event-loop
/// timer per connection, armed for the earliest deadline, fails the overdue ones. Requests that
/// share the default timeout have ever later deadlines, so the timer is re-armed about once per
/// timeout period, not once per request.
final class ResponseWaiters: Sendable {
    private typealias Waiter = CheckedContinuation<ResponseFrame, any Error>

    private enum Slot {
        /// Sent; nobody parked yet (a response now is kept for the waiter).
        case expected
        case waiting(Waiter)
        /// The outcome arrived before the waiter parked.
        case done(Result<ResponseFrame, any Error>)
    }

    private struct Entry {
        var deadline: NIODeadline
        var timeout: Duration
        var slot: Slot
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var closed: GatewayClientError?
        var timer: Scheduled<Void>?
        var timerDeadline: NIODeadline?
    }

    private let state = Mutex(State())
    private let timerLoop: any EventLoop

    init(timerLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()) {
        self.timerLoop = timerLoop
    }

    /// Registers `id` before its request is sent, so a response that beats the waiter is kept.
    /// Returns the close error instead when the connection has already ended.
    func expect(_ id: String, timeout: Duration) -> GatewayClientError? {
        let deadline = NIODeadline.now() + Self.timeAmount(timeout)
        return state.withLock { state in
            if let closed = state.closed { return closed }
            state.entries[id] = Entry(deadline: deadline, timeout: timeout, slot: .expected)
            arm(&state, at: deadline)
            return nil
        }
    }

    /// Drops a registration whose request could not be sent.
    func forget(_ id: String) {
        state.withLock { _ = $0.entries.removeValue(forKey: id) }
    }

    /// Waits for the response to `id` (registered with `expect`). Task cancellation throws
    /// `CancellationError`, the timeout `GatewayClientError.timeout`, a closed socket `.closed`.
    /// Every way out removes the registration.
    func wait(for id: String) async throws -> ResponseFrame {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: Waiter) in
                let ready: Result<ResponseFrame, any Error>? = state.withLock { state in
                    guard let entry = state.entries[id] else {
                        return .failure(state.closed ?? GatewayClientError.closed(code: nil, reason: nil))
                    }
                    if case .done(let outcome) = entry.slot {
                        state.entries[id] = nil
                        return outcome
                    }
                    if let closed = state.closed {
                        state.entries[id] = nil
                        return .failure(closed)
                    }
                    // Cancelled before parking: the cancellation handler already ran and found no waiter.
                    if Task.isCancelled {
                        state.entries[id] = nil
                        return .failure(CancellationError())
                    }
                    state.entries[id]?.slot = .waiting(continuation)
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            let waiter: Waiter? = state.withLock { state in
                guard case .waiting(let waiter)? = state.entries[id]?.slot else { return nil }
                state.entries[id] = nil
                return waiter
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Hands a response to its waiter, or keeps it until the waiter parks; responses nobody
    /// expects (late, after a timeout or cancellation) are dropped.
    func deliver(_ response: ResponseFrame) {
        let waiter: Waiter? = state.withLock { state in
            switch state.entries[response.id]?.slot {
            case .waiting(let waiter)?:
                state.entries[response.id] = nil
                return waiter
            case .expected?:
                state.entries[response.id]?.slot = .done(.success(response))
                return nil
            case .done?, nil:
                return nil
            }
        }
        waiter?.resume(returning: response)
    }

    /// Fails every waiter with `error` (the first close wins) and refuses new requests.
    func close(_ error: GatewayClientError) {
        let (waiters, closed): ([Waiter], GatewayClientError) = state.withLock { state in
            state.closed = state.closed ?? error
            state.timer?.cancel()
            state.timer = nil
            state.timerDeadline = nil
            var waiters: [Waiter] = []
            for (id, entry) in state.entries {
                if case .waiting(let waiter) = entry.slot {
                    waiters.append(waiter)
                    state.entries[id] = nil
                }
            }
            return (waiters, state.closed ?? error)
        }
        for waiter in waiters { waiter.resume(throwing: closed) }
    }

    /// Schedules the timer for `deadline` unless it already fires no later than that.
    private func arm(_ state: inout State, at deadline: NIODeadline) {
        if let current = state.timerDeadline, current <= deadline { return }
        state.timer?.cancel()
        state.timerDeadline = deadline
        state.timer = timerLoop.scheduleTask(deadline: deadline) { [weak self] in self?.fire() }
    }

    /// Fails the overdue requests and re-arms for the earliest remaining deadline.
    private func fire() {
        let now = NIODeadline.now()
        let expired: [(Waiter, GatewayClientError)] = state.withLock { state in
            state.timer = nil
            state.timerDeadline = nil
            guard state.closed == nil else { return [] }
            var expired: [(Waiter, GatewayClientError)] = []
            var next: NIODeadline?
            for (id, entry) in state.entries {
                if case .done = entry.slot { continue }
                guard entry.deadline <= now else {
                    next = min(next ?? entry.deadline, entry.deadline)
                    continue
                }
                let error = GatewayClientError.timeout("no response to request \(id) within \(entry.timeout)")
                if case .waiting(let waiter) = entry.slot {
                    expired.append((waiter, error))
                    state.entries[id] = nil
                } else {
                    state.entries[id]?.slot = .done(.failure(error))
                }
            }
            if let next { arm(&state, at: next) }
            return expired
        }
        for (waiter, error) in expired { waiter.resume(throwing: error) }
    }

    /// `timeout` as a NIO time amount, clamped so that far-off deadlines cannot overflow.
    private static func timeAmount(_ timeout: Duration) -> TimeAmount {
        let limit = Duration.seconds(100 * 365 * 24 * 3600)
        return TimeAmount(max(.zero, min(timeout, limit)))
    }
}
