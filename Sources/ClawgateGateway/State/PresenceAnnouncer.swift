import Synchronization

/// Rate-limits `presence` broadcasts: a change is announced at once when the last broadcast is
/// older than the interval, otherwise one trailing broadcast carries every change made meanwhile.
///
/// Each broadcast goes to every connection, so with N clients connecting at once, announcing each
/// change would send N² lists. The interval grows with the number of connections (1 ms each, on
/// top of a 50 ms floor), which bounds presence traffic to about one list per connection per
/// second whatever the churn. Clients only ever need the latest list, and `stateVersion` still
/// rises with every change.
final class PresenceAnnouncer: Sendable {
    private struct State {
        var lastSent: ContinuousClock.Instant?
        var trailingScheduled = false
    }

    static let floor = Duration.milliseconds(50)
    static let perConnection = Duration.milliseconds(1)

    private let state = Mutex(State())
    private let send: @Sendable () -> Void

    /// `send` broadcasts the current list; it is called outside the lock.
    init(send: @escaping @Sendable () -> Void) {
        self.send = send
    }

    static func interval(connections: Int) -> Duration {
        floor + perConnection * max(0, connections)
    }

    func changed(connections: Int) {
        let interval = Self.interval(connections: connections)
        let now = ContinuousClock.now
        enum Action {
            case sendNow
            case schedule(ContinuousClock.Instant)
            case none
        }
        let action: Action = state.withLock { state in
            if state.trailingScheduled { return .none }
            guard let lastSent = state.lastSent, now < lastSent + interval else {
                state.lastSent = now
                return .sendNow
            }
            state.trailingScheduled = true
            return .schedule(lastSent + interval)
        }
        switch action {
        case .none:
            return
        case .sendNow:
            send()
        case .schedule(let deadline):
            Task { [self] in
                try? await Task.sleep(until: deadline, clock: .continuous)
                state.withLock { state in
                    state.trailingScheduled = false
                    state.lastSent = .now
                }
                send()
            }
        }
    }
}
