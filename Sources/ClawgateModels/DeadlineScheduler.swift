import Synchronization

/// Deadlines for model calls, without a timer per call.
///
/// Each streamed chat used to start two sleeping tasks: the attempt's first-token and total
/// timer, and the bound on draining the body after the API said it was done. On Linux each is a
/// Dispatch timer, armed through Dispatch's timer thread and cancelled again milliseconds later;
/// together with their tasks that was ~200 µs of CPU per proxied request on the 2-core test
/// machine (BENCHMARKS.md, "Proxy"). Here a deadline is an entry under a lock, and one task
/// sleeps until the earliest one. The timeouts are long and alike, so a new deadline almost
/// always falls after the one being slept towards, and scheduling and cancelling it then arm no
/// timer at all.
///
/// Deadlines that are scheduled in increasing order share the sleeper best; a scheduler whose
/// deadlines mix short and long delays restarts it whenever a short one comes after a long one
/// (so the drain bounds of streams have a scheduler of their own, see `ModelRouter`).
///
/// Actions run on the sleeping task, so they must be quick (cancel a task, flip a flag). An
/// action can run late (scheduling), never early. A deadline cancelled before it is due never
/// runs; one cancelled while it is being fired may still run, so an action must be harmless
/// after the work it guards has ended.
public final class DeadlineScheduler: Sendable {
    private let state = Mutex(State())

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var nextId: UInt64 = 0
        /// The task sleeping towards `target`, the earliest deadline when it started sleeping.
        var sleeper: (target: ContinuousClock.Instant, task: Task<Void, Never>)?
        /// Bumped whenever a sleeper is replaced, so a replaced one knows to stop.
        var generation: UInt64 = 0
    }

    private struct Entry {
        var instant: ContinuousClock.Instant
        var action: @Sendable () -> Void
    }

    /// A scheduled action; `cancel()` before its time and it never runs.
    public struct Deadline: Sendable {
        fileprivate let id: UInt64
        fileprivate let scheduler: DeadlineScheduler

        public func cancel() {
            scheduler.state.withLock { _ = $0.entries.removeValue(forKey: id) }
        }
    }

    public init() {}

    /// Runs `action` once `instant` has passed, unless the deadline is cancelled first.
    public func schedule(at instant: ContinuousClock.Instant, _ action: @escaping @Sendable () -> Void) -> Deadline {
        let id: UInt64 = state.withLock { state in
            let id = state.nextId
            state.nextId += 1
            state.entries[id] = Entry(instant: instant, action: action)
            if let sleeper = state.sleeper, sleeper.target <= instant { return id }
            // Nobody sleeps, or only towards a later deadline: sleep towards this one instead.
            state.sleeper?.task.cancel()
            startSleeper(towards: instant, in: &state)
            return id
        }
        return Deadline(id: id, scheduler: self)
    }

    /// How many deadlines wait (scheduled, neither run nor cancelled).
    public var pending: Int { state.withLock { $0.entries.count } }

    private func startSleeper(towards target: ContinuousClock.Instant, in state: inout State) {
        state.generation += 1
        let generation = state.generation
        // Detached: the sleeper serves every caller, so it takes no priority or task-local
        // values from whichever request happened to start it.
        let task = Task.detached { [self] in
            await self.sleep(towards: target, generation: generation)
        }
        state.sleeper = (target, task)
    }

    /// Sleeps until `target`, runs what is due, and goes on towards the next deadline while any
    /// wait; stops when replaced by an earlier sleeper or when nothing is left.
    private func sleep(towards initialTarget: ContinuousClock.Instant, generation: UInt64) async {
        var target = initialTarget
        while true {
            do {
                try await Task.sleep(until: target, tolerance: nil, clock: .continuous)
            } catch {
                return  // replaced by a sleeper towards an earlier deadline
            }
            let now = ContinuousClock.now
            let due: [@Sendable () -> Void]? = state.withLock { state in
                guard state.generation == generation else { return nil }
                var due: [(instant: ContinuousClock.Instant, action: @Sendable () -> Void)] = []
                var next: ContinuousClock.Instant?
                for (id, entry) in state.entries {
                    if entry.instant <= now {
                        due.append((entry.instant, entry.action))
                        state.entries[id] = nil
                    } else if next.map({ entry.instant < $0 }) ?? true {
                        next = entry.instant
                    }
                }
                if let next {
                    target = next
                    state.sleeper?.target = next
                } else {
                    state.sleeper = nil
                }
                return due.sorted { $0.instant < $1.instant }.map(\.action)
            }
            guard let due else { return }
            for action in due { action() }
            if state.withLock({ $0.generation != generation || $0.sleeper == nil }) { return }
        }
    }
}
