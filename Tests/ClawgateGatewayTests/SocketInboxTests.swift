@testable import ClawgateGateway
import Dispatch
import Synchronization
import Testing

/// `SocketInbox`: one socket's jobs in order, never two at once, bounded, and the end after the
/// last job.
@Suite("Socket inbox")
struct SocketInboxTests {
    final class Log: Sendable {
        let events = Mutex<[String]>([])
        let running = Mutex(0)
        let overlapped = Mutex(false)
        func add(_ event: String) { events.withLock { $0.append(event) } }
        var all: [String] { events.withLock { $0 } }
    }

    /// A worker whose jobs each wait for `gate` to open, recording starts, rooms and the end.
    private static func worker(_ log: Log, gate: Gate) -> SocketInbox<Int>.Worker {
        .init(
            run: { job in
                if log.running.withLock({ $0 += 1; return $0 }) > 1 { log.overlapped.withLock { $0 = true } }
                await gate.wait()
                log.add("job \(job)")
                log.running.withLock { $0 -= 1 }
            },
            onRoom: { log.add("room") },
            onEnd: { log.add("end") }
        )
    }

    @Test func jobsRunInOrderOneAtATime() async throws {
        let log = Log()
        let inbox = SocketInbox<Int>()
        inbox.open(Self.worker(log, gate: Gate(open: true)))
        for job in 0..<10 { inbox.post(job) }
        inbox.end()
        try await Self.waitFor { log.all.last == "end" }
        #expect(log.all == (0..<10).map { "job \($0)" } + ["end"])
        #expect(!log.overlapped.withLock { $0 })
    }

    @Test func aFullBacklogAsksToPauseAndSaysWhenThereIsRoom() async throws {
        let log = Log()
        let gate = Gate(open: false)
        let inbox = SocketInbox<Int>(maxJobs: 4, maxBytes: 1 << 20)
        inbox.open(Self.worker(log, gate: gate))
        // The first job is taken at once and waits at the gate; three more fill the backlog to 3.
        #expect(inbox.post(0))
        try await Self.waitFor { log.running.withLock { $0 } == 1 }
        #expect(inbox.post(1))
        #expect(inbox.post(2))
        #expect(inbox.post(3))
        #expect(!inbox.post(4))  // 4 waiting: full
        gate.open()
        inbox.end()
        try await Self.waitFor { log.all.last == "end" }
        // Room is announced once, when the backlog fell under half.
        #expect(log.all.filter { $0 == "room" }.count == 1)
        #expect(log.all.filter { $0.hasPrefix("job") } == (0...4).map { "job \($0)" })
    }

    @Test func bytesCountTowardsTheBound() async throws {
        let inbox = SocketInbox<Int>(maxJobs: 100, maxBytes: 1000)
        #expect(inbox.post(0, bytes: 600))
        #expect(!inbox.post(1, bytes: 600))
    }

    @Test func nothingRunsBeforeOpenAndTheEndWaitsForIt() async throws {
        let log = Log()
        let inbox = SocketInbox<Int>()
        inbox.post(1)
        inbox.end()
        try await Task.sleep(for: .milliseconds(50))
        #expect(log.all.isEmpty)
        inbox.open(Self.worker(log, gate: Gate(open: true)))
        try await Self.waitFor { log.all.last == "end" }
        #expect(log.all == ["job 1", "end"])
        // After the end nothing more is taken.
        inbox.post(2)
        try await Task.sleep(for: .milliseconds(50))
        #expect(log.all == ["job 1", "end"])
    }

    @Test func endWithNothingQueuedEndsAtOnceAndOnlyOnce() async throws {
        let log = Log()
        let inbox = SocketInbox<Int>()
        inbox.open(Self.worker(log, gate: Gate(open: true)))
        inbox.end()
        inbox.end()
        #expect(log.all == ["end"])
    }

    /// A task executor that counts the jobs it was given (and runs them on Dispatch's pool).
    final class CountingExecutor: TaskExecutor {
        let jobs = Mutex(0)
        func enqueue(_ job: consuming ExecutorJob) {
            jobs.withLock { $0 += 1 }
            let job = UnownedJob(job)
            DispatchQueue.global().async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        }
    }

    @Test func drainsRunOnTheExecutorTheWorkerNamesAskedAtEachStart() async throws {
        let log = Log()
        let executor = CountingExecutor()
        let useIt = Mutex(false)
        var worker = Self.worker(log, gate: Gate(open: true))
        worker.executor = { useIt.withLock { $0 } ? executor : nil }
        let inbox = SocketInbox<Int>()
        inbox.open(worker)
        // Not named yet: the drain runs on the global executor.
        inbox.post(1)
        try await Self.waitFor { log.all == ["job 1"] && log.running.withLock { $0 } == 0 }
        try await Task.sleep(for: .milliseconds(20))
        #expect(executor.jobs.withLock { $0 } == 0)
        // Named: the next drain (a new task, once the inbox went idle) starts on it.
        useIt.withLock { $0 = true }
        inbox.post(2)
        inbox.end()
        try await Self.waitFor { log.all.last == "end" }
        #expect(log.all == ["job 1", "job 2", "end"])
        #expect(executor.jobs.withLock { $0 } >= 1)
    }

    private static func waitFor(_ condition: @Sendable () -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: .seconds(5))
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met within 5 s")
                return
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

/// Holds jobs until opened.
final class Gate: Sendable {
    private let state: Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>

    init(open: Bool) { state = Mutex((open, [])) }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let openNow = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if openNow { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
