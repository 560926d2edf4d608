import ClawgateProtocol
import Foundation
import Histogram
import Synchronization

/// Monotonic time in nanoseconds.
enum MonotonicClock {
    static func nowNs() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}

/// When a run warms up, starts counting and stops starting new operations (monotonic ns).
struct Schedule: Sendable {
    let startNs: UInt64
    let measureStartNs: UInt64
    let deadlineNs: UInt64

    init(startNs: UInt64, warmup: Double, duration: Double) {
        self.startNs = startNs
        self.measureStartNs = startNs + UInt64(warmup * 1e9)
        self.deadlineNs = measureStartNs + UInt64(duration * 1e9)
    }

    var isOver: Bool { MonotonicClock.nowNs() >= deadlineNs }
}

/// One load task's measurements: latencies in microseconds, 3 significant digits, up to 60 s.
struct Tally: Sendable {
    static let highestMicros: UInt64 = 60_000_000

    var histogram = Histogram<UInt64>(
        lowestDiscernibleValue: 1, highestTrackableValue: Tally.highestMicros, numberOfSignificantValueDigits: .three
    )
    var count = 0
    var lastEndNs: UInt64 = 0
    /// Latencies of the parts of an operation (e.g. the `mesh.accept` call), by name.
    var steps: [String: Histogram<UInt64>] = [:]
    /// Pushed events the load tasks read, by event name (whole run, warm-up included).
    var events: [String: Int] = [:]

    static func micros(_ startNs: UInt64, _ endNs: UInt64) -> UInt64 {
        Swift.max(1, Swift.min((endNs &- startNs) / 1000, Tally.highestMicros))
    }

    /// Records an operation if it started inside the measured window (not during the warm-up).
    mutating func record(startNs: UInt64, endNs: UInt64, schedule: Schedule) {
        guard startNs >= schedule.measureStartNs else { return }
        _ = histogram.record(Tally.micros(startNs, endNs))
        count += 1
        lastEndNs = Swift.max(lastEndNs, endNs)
    }

    /// Records one part of an operation that started at `operationStartNs`.
    mutating func recordStep(_ name: String, startNs: UInt64, endNs: UInt64, operationStartNs: UInt64, schedule: Schedule) {
        guard operationStartNs >= schedule.measureStartNs else { return }
        _ = steps[name, default: Tally().histogram].record(Tally.micros(startNs, endNs))
    }

    static func merged(_ tallies: [Tally]) -> Tally {
        var total = Tally()
        for tally in tallies {
            total.histogram.add(tally.histogram)
            total.count += tally.count
            total.lastEndNs = Swift.max(total.lastEndNs, tally.lastEndNs)
            total.events.merge(tally.events, uniquingKeysWith: +)
            for (name, histogram) in tally.steps {
                if total.steps[name] == nil {
                    total.steps[name] = histogram
                } else {
                    total.steps[name]?.add(histogram)
                }
            }
        }
        return total
    }
}

/// Holds every load task until all of them are connected and registered, lets each settle
/// (drain what the others' arrival pushed to it), then holds them again and hands all the
/// same schedule; at the end holds them until all are done. A task that fails fails the
/// others' waits too.
actor StartBarrier {
    private let parties: Int
    private let warmup: Double
    private let duration: Double
    /// Connected, settled, finished.
    private var phases: [Phase] = [Phase(), Phase(), Phase()]
    private var failure: (any Error)?

    private struct Phase {
        var arrived = 0
        var waiters: [CheckedContinuation<Void, any Error>] = []
        var open = false
    }

    private var schedule: Schedule?

    init(parties: Int, warmup: Double, duration: Double) {
        self.parties = parties
        self.warmup = warmup
        self.duration = duration
    }

    /// Waits for everyone, runs `settle`, waits for everyone again; returns the schedule.
    func arrive(settle: @Sendable () async throws -> Void) async throws -> Schedule {
        try await pass(0)
        try await settle()
        try await pass(1)
        guard let schedule else { throw failure ?? BenchError.setup("start barrier without a schedule") }
        return schedule
    }

    /// Waits until every task has finished its measured work, so that no task's closing (which
    /// the gateway announces to every other connection) slows another's last operations.
    func finished() async throws {
        try await pass(2)
    }

    private func pass(_ index: Int) async throws {
        if let failure { throw failure }
        phases[index].arrived += 1
        if phases[index].arrived == parties {
            if index == 1 {
                schedule = Schedule(startNs: MonotonicClock.nowNs(), warmup: warmup, duration: duration)
            }
            phases[index].open = true
            let waiting = phases[index].waiters
            phases[index].waiters = []
            for waiter in waiting { waiter.resume() }
            return
        }
        try await withCheckedThrowingContinuation { continuation in
            phases[index].waiters.append(continuation)
        }
    }

    func fail(_ error: any Error) {
        guard failure == nil else { return }
        failure = error
        for index in phases.indices {
            let waiting = phases[index].waiters
            phases[index].waiters = []
            for waiter in waiting { waiter.resume(throwing: error) }
        }
    }
}

/// Lets at most `limit` load tasks set up (connect, handshake, register) at a time. A gateway
/// announces every agent connection to every other (`presence` carries the whole list), so
/// a burst of 128 simultaneous handshakes overloads a 2-core machine and times out.
actor SetupGate {
    private let limit: Int
    private var inside = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) {
        self.limit = Swift.max(1, limit)
    }

    /// Waits for a place; the ticket gives it back (once, whichever caller is first).
    func enter() async -> Ticket {
        if inside < limit {
            inside += 1
        } else {
            await withCheckedContinuation { waiters.append($0) }
        }
        return Ticket(gate: self)
    }

    final class Ticket: Sendable {
        let gate: SetupGate
        private let released = Mutex(false)

        init(gate: SetupGate) {
            self.gate = gate
        }

        func release() async {
            let first = released.withLock { released in
                defer { released = true }
                return !released
            }
            if first { await gate.leave() }
        }
    }

    private func leave() {
        if waiters.isEmpty {
            inside -= 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}

/// The outcome of one transport's run.
struct RunResult: Sendable {
    /// "mesh" or "rpc".
    var scenario: String
    /// "ws" or "http" (rpc: "ws health").
    var transport: String
    var concurrency: Int
    /// "pairs" or "connections".
    var unit: String
    /// "round trips" or "calls".
    var operation: String
    /// "rt/s" or "calls/s".
    var rateUnit: String
    var tally: Tally
    var schedule: Schedule
    var extra: [String: JSONValue] = [:]
    /// Step names in the order they happen (for the breakdown line).
    var stepOrder: [String] = []

    /// From the start of the measured window to the end of the last counted operation (the
    /// operations in flight at the deadline finish and count).
    var elapsedSeconds: Double {
        let end = Swift.max(tally.lastEndNs, schedule.deadlineNs)
        return Double(end - schedule.measureStartNs) / 1e9
    }

    var rate: Double { elapsedSeconds > 0 ? Double(tally.count) / elapsedSeconds : 0 }

    func millis(_ percentile: Double) -> Double {
        tally.count == 0 ? 0 : Double(tally.histogram.valueAtPercentile(percentile)) / 1000
    }

    var maxMillis: Double { tally.count == 0 ? 0 : Double(tally.histogram.max) / 1000 }
    var meanMillis: Double { tally.count == 0 ? 0 : tally.histogram.mean / 1000 }

    var summaryLine: String {
        func ms(_ value: Double) -> String { String(format: "%.2f ms", value) }
        return "\(scenario) \(transport): \(concurrency) \(unit), \(String(format: "%.1f", elapsedSeconds)) s, "
            + "\(tally.count) \(operation), \(String(format: "%.1f", rate)) \(rateUnit), "
            + "p50 \(ms(millis(50))), p90 \(ms(millis(90))), p99 \(ms(millis(99))), max \(ms(maxMillis))"
    }

    /// `  steps (p50 / p99 ms): delegate 0.31 / 0.90, …` — where a round trip's time goes, as
    /// seen by the client.
    var breakdownLine: String {
        let names = stepOrder.filter { tally.steps[$0] != nil } + tally.steps.keys.filter { !stepOrder.contains($0) }.sorted()
        let parts = names.compactMap { name -> String? in
            guard let histogram = tally.steps[name], histogram.totalCount > 0 else { return nil }
            let p50 = Double(histogram.valueAtPercentile(50)) / 1000
            let p99 = Double(histogram.valueAtPercentile(99)) / 1000
            return "\(name) " + String(format: "%.2f / %.2f", p50, p99)
        }
        return "  \(scenario) \(transport) steps (p50 / p99 ms): " + parts.joined(separator: ", ")
    }

    var json: JSONValue {
        func rounded(_ value: Double, _ digits: Double = 1000) -> JSONValue { .double((value * digits).rounded() / digits) }
        var object: [String: JSONValue] = [
            "scenario": .string(scenario),
            "transport": .string(transport),
            "concurrency": .int(concurrency),
            "unit": .string(unit),
            "seconds": rounded(elapsedSeconds),
            "count": .int(tally.count),
            "rate": rounded(rate, 10),
            "latencyMs": .object([
                "p50": rounded(millis(50)), "p90": rounded(millis(90)), "p99": rounded(millis(99)),
                "p999": rounded(millis(99.9)), "max": rounded(maxMillis), "mean": rounded(meanMillis),
            ]),
        ]
        if !tally.steps.isEmpty {
            var steps: [String: JSONValue] = [:]
            for (name, histogram) in tally.steps where histogram.totalCount > 0 {
                steps[name] = [
                    "p50": rounded(Double(histogram.valueAtPercentile(50)) / 1000),
                    "p99": rounded(Double(histogram.valueAtPercentile(99)) / 1000),
                    "mean": rounded(histogram.mean / 1000),
                    "count": .int(Int(histogram.totalCount)),
                ]
            }
            object["stepsMs"] = .object(steps)
        }
        if !tally.events.isEmpty {
            object["eventsRead"] = .object(tally.events.mapValues { .int($0) })
        }
        for (key, value) in extra { object[key] = value }
        return .object(object)
    }
}

enum BenchError: Error, CustomStringConvertible {
    case setup(String)
    case protocolViolation(String)
    case http(path: String, status: Int, body: String)

    var description: String {
        switch self {
        case .setup(let message): return message
        case .protocolViolation(let message): return "unexpected answer: \(message)"
        case .http(let path, let status, let body): return "HTTP \(status) from \(path): \(body.prefix(300))"
        }
    }
}

/// A short random id so that agents of different runs against one gateway do not collide.
func shortRunId() -> String {
    String(RandomID.hex(count: 32).prefix(8))
}

/// Progress for humans, on stderr (stdout stays clean for `--json`).
func note(_ message: String) {
    FileHandle.standardError.write(Data("clawgate-bench: \(message)\n".utf8))
}

extension StartBarrier {
    /// Runs `count` parties concurrently and collects their tallies; a party that fails releases
    /// the barrier for the others (so nobody waits for it) and fails the run.
    func runParties(
        _ count: Int, _ party: @escaping @Sendable (Int) async throws -> (Tally, Schedule)
    ) async throws -> [(Tally, Schedule)] {
        try await withThrowingTaskGroup(of: (Tally, Schedule).self) { group in
            for index in 0..<count {
                group.addTask {
                    do {
                        return try await party(index)
                    } catch {
                        await self.fail(error)
                        throw error
                    }
                }
            }
            var all: [(Tally, Schedule)] = []
            for try await outcome in group { all.append(outcome) }
            return all
        }
    }
}
