import ClawgateProtocol
import NIOCore

/// Sends one connection its `tick` events, on the connection's event loop, at a phase of its own
/// within the interval.
///
/// Why not one broadcast per interval: at 10,000 connections that is a burst of 10,000 socket
/// writes (~200 ms of CPU here, most of it the kernel's loopback sends), so the last sockets got
/// their tick up to ~150 ms after the first, by a margin that changed from tick to tick (a p99
/// of 61 ms between a connection's gap and the interval), and every request that arrived during
/// the burst waited behind it. With a random phase per connection the same writes come a few at
/// a time, spread over the interval; each connection still gets one tick per interval on a fixed
/// schedule (after a stall the missed ticks are skipped, not sent in a burst).
final class ConnectionTicker: Sendable {
    private let handle: ConnectionHandle
    private let interval: TimeAmount
    /// Whether to tick at all (false once the gateway is shutting down: after `shutdown` a
    /// client sees nothing but the close).
    private let isLive: @Sendable () -> Bool
    private let next: NIOLoopBoundBox<Scheduled<Void>?>

    /// Ticks `handle` every `interval` until its channel closes; the first tick comes at a random
    /// point within the first interval.
    static func start(_ handle: ConnectionHandle, interval: TimeAmount, isLive: @escaping @Sendable () -> Bool) {
        let ticker = ConnectionTicker(handle: handle, interval: interval, isLive: isLive)
        let loop = handle.eventLoop
        let phase = TimeAmount.nanoseconds(Int64.random(in: 1...max(1, interval.nanoseconds)))
        loop.execute {
            ticker.arm(at: .now() + phase)
            handle.closeFuture.whenComplete { _ in ticker.stop() }
        }
    }

    private init(handle: ConnectionHandle, interval: TimeAmount, isLive: @escaping @Sendable () -> Bool) {
        self.handle = handle
        self.interval = interval
        self.isLive = isLive
        self.next = .makeEmptyBox(eventLoop: handle.eventLoop)
    }

    /// On the loop.
    private func arm(at deadline: NIODeadline) {
        next.value = handle.eventLoop.scheduleTask(deadline: deadline) { [self] in
            tick()
            var due = deadline + interval
            let now = NIODeadline.now()
            if due < now { due = now + interval }
            arm(at: due)
        }
    }

    private func tick() {
        guard isLive() else { return }
        guard let payload = try? JSONCoding.encode(TickEvent(ts: Clock.nowMs())) else { return }
        let prefix = FrameEncoder.eventPrefix(event: GatewayEvent.tick, payloadJSON: payload, stateVersion: nil)
        handle.sendEvent(prefix: prefix, droppable: true)
    }

    /// On the loop: the channel closed; drops the pending tick (and with it the ticker).
    private func stop() {
        next.value?.cancel()
        next.value = nil
    }
}
