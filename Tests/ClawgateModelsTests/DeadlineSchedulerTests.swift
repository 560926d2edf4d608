import Synchronization
import Testing

@testable import ClawgateModels

@Suite("Deadline scheduler")
struct DeadlineSchedulerTests {
    /// When each action ran, by label.
    final class Record: Sendable {
        let runs = Mutex<[(label: String, at: ContinuousClock.Instant)]>([])
        func note(_ label: String) { runs.withLock { $0.append((label, .now)) } }
        var labels: [String] { runs.withLock { $0.map(\.label) } }
        func time(_ label: String) -> ContinuousClock.Instant? { runs.withLock { $0.first { $0.label == label }?.at } }
    }

    @Test func runsAfterItsInstantNotBefore() async throws {
        let scheduler = DeadlineScheduler()
        let record = Record()
        let due = ContinuousClock.now + .milliseconds(80)
        _ = scheduler.schedule(at: due) { record.note("a") }
        #expect(await eventually { record.labels == ["a"] })
        let ran = try #require(record.time("a"))
        #expect(ran >= due)
        #expect(scheduler.pending == 0)
    }

    @Test func aCancelledDeadlineNeverRuns() async throws {
        let scheduler = DeadlineScheduler()
        let record = Record()
        let cancelled = scheduler.schedule(at: .now + .milliseconds(500)) { record.note("cancelled") }
        _ = scheduler.schedule(at: .now + .milliseconds(600)) { record.note("kept") }
        cancelled.cancel()
        cancelled.cancel()  // twice is harmless
        #expect(await eventually { record.labels == ["kept"] })
        try await Task.sleep(for: .milliseconds(100))
        #expect(record.labels == ["kept"])
        #expect(scheduler.pending == 0)
    }

    /// The sleeping task aims at the earliest deadline it knew; one scheduled later but due
    /// sooner must not wait for it.
    @Test func anEarlierDeadlineScheduledLaterRunsOnTime() async throws {
        let scheduler = DeadlineScheduler()
        let record = Record()
        let late = scheduler.schedule(at: .now + .seconds(30)) { record.note("late") }
        let start = ContinuousClock.now
        _ = scheduler.schedule(at: start + .milliseconds(50)) { record.note("soon") }
        #expect(await eventually { record.labels == ["soon"] })
        #expect(try #require(record.time("soon")) - start < .seconds(2))
        #expect(scheduler.pending == 1)
        late.cancel()
        #expect(scheduler.pending == 0)
    }

    @Test func manyDeadlinesRunInOrderOfTheirInstants() async throws {
        let scheduler = DeadlineScheduler()
        let record = Record()
        let start = ContinuousClock.now
        // Scheduled out of order, some sharing a sleeper, some replacing it (all well ahead of
        // now, so a slow machine cannot let one fire before the next is scheduled).
        for offset in [90, 30, 60, 10, 120, 20] {
            _ = scheduler.schedule(at: start + .milliseconds(500 + offset)) { record.note("\(offset)") }
        }
        #expect(await eventually { record.labels.count == 6 })
        #expect(record.labels == ["10", "20", "30", "60", "90", "120"])
        #expect(scheduler.pending == 0)
    }

    /// Many tasks scheduling and cancelling at once: every kept deadline runs exactly once and
    /// not early, no cancelled one runs, nothing is left behind.
    @Test func concurrentSchedulingAndCancelling() async throws {
        final class Tally: Sendable {
            let runs = Mutex<[Int: Int]>([:])
            let early = Mutex(0)
        }
        let scheduler = DeadlineScheduler()
        let tally = Tally()
        let start = ContinuousClock.now
        let kept: [Int] = await withTaskGroup(of: [Int].self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var kept: [Int] = []
                    for index in 0..<200 {
                        let id = worker * 1000 + index
                        // Cancelled ones are far enough ahead to be cancelled before they are due.
                        let cancel = index % 2 == 1
                        let due = start + .milliseconds(cancel ? 2_000 + index : 300 + (index * 7) % 400)
                        let deadline = scheduler.schedule(at: due) {
                            if ContinuousClock.now < due { tally.early.withLock { $0 += 1 } }
                            tally.runs.withLock { $0[id, default: 0] += 1 }
                        }
                        if cancel { deadline.cancel() } else { kept.append(id) }
                        if index % 16 == 0 { await Task.yield() }
                    }
                    return kept
                }
            }
            var all: [Int] = []
            for await ids in group { all += ids }
            return all
        }
        #expect(kept.count == 800)
        #expect(await eventually(seconds: 10) { tally.runs.withLock { $0.count } == 800 })
        try await Task.sleep(for: .milliseconds(100))
        let counts = tally.runs.withLock { $0 }
        #expect(Set(counts.keys) == Set(kept), "exactly the kept deadlines ran")
        #expect(counts.values.allSatisfy { $0 == 1 }, "each once")
        #expect(tally.early.withLock { $0 } == 0)
        #expect(scheduler.pending == 0)
    }

    @Test func aDeadlineAlreadyPastRunsPromptly() async throws {
        let scheduler = DeadlineScheduler()
        let record = Record()
        _ = scheduler.schedule(at: .now - .seconds(1)) { record.note("past") }
        #expect(await eventually(seconds: 1) { record.labels == ["past"] })
    }
}
