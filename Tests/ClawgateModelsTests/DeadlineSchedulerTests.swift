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
        let cancelled = scheduler.schedule(at: .now + .milliseconds(50)) { record.note("cancelled") }
        _ = scheduler.schedule(at: .now + .milliseconds(100)) { record.note("kept") }
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
        // Scheduled out of order, some sharing a sleeper, some replacing it.
        for offset in [90, 30, 60, 10, 120, 20] {
            _ = scheduler.schedule(at: start + .milliseconds(offset)) { record.note("\(offset)") }
        }
        #expect(await eventually { record.labels.count == 6 })
        #expect(record.labels == ["10", "20", "30", "60", "90", "120"])
        #expect(scheduler.pending == 0)
    }

    @Test func aDeadlineAlreadyPastRunsPromptly() async throws {
        let scheduler = DeadlineScheduler()
        let record = Record()
        _ = scheduler.schedule(at: .now - .seconds(1)) { record.note("past") }
        #expect(await eventually(seconds: 1) { record.labels == ["past"] })
    }
}
