import DequeModule
import Synchronization

/// A socket's work, done in order, by a task that exists only while there is work.
///
/// Why an unstructured task: a task that waits for a socket's next message keeps its stack slabs
/// for the socket's whole life, which is most of what an idle connection cost. Here the first job
/// posted to an idle inbox starts a task that runs jobs one at a time until none is left, then
/// ends; jobs of one socket never overlap or reorder. The inbox is bounded: `post` says when the
/// socket should stop reading (more than `maxJobs` jobs or `maxBytes` bytes wait) and `onRoom` is
/// called once the backlog is back under both. After `end()`, jobs already posted still run
/// (a request that arrived before the peer left is still carried out), then `onEnd` runs once.
/// Nothing runs before `open` gives the inbox its worker (the session, once it is started).
final class SocketInbox<Job: Sendable>: Sendable {
    struct Worker: Sendable {
        var run: @Sendable (Job) async -> Void
        var onRoom: @Sendable () -> Void
        var onEnd: @Sendable () -> Void
        /// Where the next task that drains the inbox should run (nil: the global executor); asked
        /// each time one starts, so a socket can move once it is known what it is for.
        var executor: @Sendable () -> (any TaskExecutor)? = { nil }
    }

    private struct State {
        var jobs: Deque<(job: Job, bytes: Int)> = []
        var bytes = 0
        /// Set by `open`, dropped when finished (the worker usually holds the session).
        var worker: Worker?
        var running = false
        var full = false
        var ended = false
        var finished = false
    }

    private let state = Mutex(State())
    private let maxJobs: Int
    private let maxBytes: Int

    init(maxJobs: Int = 16, maxBytes: Int = 1 << 20) {
        self.maxJobs = maxJobs
        self.maxBytes = maxBytes
    }

    func open(_ worker: Worker) {
        let (start, finish): (Worker?, Worker?) = state.withLock { state in
            guard state.worker == nil, !state.finished else { return (nil, nil) }
            state.worker = worker
            if !state.jobs.isEmpty {
                state.running = true
                return (worker, nil)
            }
            guard state.ended else { return (nil, nil) }
            state.finished = true
            state.worker = nil
            return (nil, worker)
        }
        if let start { Task(executorPreference: start.executor()) { await self.drain(start) } }
        finish?.onEnd()
    }

    /// Queues `job`; false when the backlog is full and the caller should stop reading.
    @discardableResult
    func post(_ job: Job, bytes: Int = 0) -> Bool {
        let (start, hasRoom): (Worker?, Bool) = state.withLock { state in
            guard !state.finished else { return (nil, true) }
            state.jobs.append((job, bytes))
            state.bytes += bytes
            let hasRoom = state.jobs.count < maxJobs && state.bytes < maxBytes
            if !hasRoom { state.full = true }
            guard !state.running, let worker = state.worker else { return (nil, hasRoom) }
            state.running = true
            return (worker, hasRoom)
        }
        if let start {
            Task(executorPreference: start.executor()) { await self.drain(start) }
        }
        return hasRoom
    }

    /// The socket is gone: `onEnd` runs after the jobs already posted.
    func end() {
        let finish: Worker? = state.withLock { state in
            guard !state.ended else { return nil }
            state.ended = true
            guard !state.running, !state.finished, let worker = state.worker else { return nil }
            state.finished = true
            state.worker = nil
            return worker
        }
        finish?.onEnd()
    }

    private func drain(_ worker: Worker) async {
        while let job = next(worker) {
            await worker.run(job)
        }
    }

    /// The next job, or nil after marking the inbox idle (and finished, when the socket is gone).
    private func next(_ worker: Worker) -> Job? {
        let (job, room, finish): (Job?, Bool, Bool) = state.withLock { state in
            guard let (job, bytes) = state.jobs.popFirst() else {
                state.running = false
                guard state.ended, !state.finished else { return (nil, false, false) }
                state.finished = true
                state.worker = nil
                return (nil, false, true)
            }
            state.bytes -= bytes
            var room = false
            if state.full, state.jobs.count < maxJobs / 2, state.bytes < maxBytes / 2 {
                state.full = false
                room = true
            }
            return (job, room, false)
        }
        if room { worker.onRoom() }
        if finish { worker.onEnd() }
        return job
    }
}
