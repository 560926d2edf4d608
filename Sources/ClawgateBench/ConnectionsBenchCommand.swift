import ArgumentParser
import ClawgateClient
import ClawgateProtocol
import Foundation
import Histogram
import NIOCore
import Synchronization

/// `clawgate-bench connections`: what N idle authenticated WebSocket clients cost the gateway
/// (RSS per connection) and how late its `tick` events arrive while it holds them.
struct ConnectionsBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connections",
        abstract: "Hold N idle authenticated WebSocket clients: gateway RSS per connection and tick lateness p99.",
        discussion: """
            For each N (a fresh gateway each, started with gateway.limits.tickIntervalMs = --tick-ms), the bench reads \
            the gateway's VmRSS, connects N lean NIO clients (shared token, cli clients: no scopes, not in presence), \
            waits --settle seconds, reads VmRSS again, then holds them for --hold seconds while every client times \
            the gaps between the tick events it receives. RSS per connection = (RSS held - RSS before) / N. Tick \
            lateness = gap - configured interval (0 when early). The bench raises its open-file limit (setrlimit) \
            before starting the gateway, which inherits it.
            """
    )

    @OptionGroup var target: TargetOptions

    @Option(help: "Connection counts, one run each, comma-separated (default 1000,10000; --smoke: 100).")
    var counts: String?

    @Option(name: .customLong("tick-ms"), help: "gateway.limits.tickIntervalMs for the started gateway (default 1000; --smoke: 200). With --url the gateway's own (from hello-ok).")
    var tickMs: Int?

    @Option(help: "Seconds to hold the connections while timing ticks (default 10; --smoke: 2).")
    var hold: Double?

    @Option(help: "Seconds between the last connect and the RSS reading (default 2; --smoke: 0.5).")
    var settle: Double?

    @Option(name: .customLong("setup-parallelism"), help: "Connects in flight at once (default 64; the gateway admits 256 unauthenticated sockets).")
    var setupParallelism = 64

    func validate() throws {
        if let counts, Self.parseCounts(counts) == nil {
            throw ValidationError("--counts: comma-separated integers from 1 to 100000, e.g. 1000,10000")
        }
        if let tickMs, !(100...3_600_000).contains(tickMs) { throw ValidationError("--tick-ms must be 100 to 3600000") }
        if let hold, !(hold > 0) { throw ValidationError("--hold must be > 0") }
        if let settle, settle < 0 { throw ValidationError("--settle must be >= 0") }
        if !(1...250).contains(setupParallelism) { throw ValidationError("--setup-parallelism must be 1 to 250") }
    }

    static func parseCounts(_ text: String) -> [Int]? {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "") }
        let values = parts.compactMap { Int($0) }
        guard !values.isEmpty, values.count == parts.count, values.allSatisfy({ (1...100_000).contains($0) }) else { return nil }
        return values
    }

    func run() async throws {
        let runCounts = counts.flatMap(Self.parseCounts) ?? (target.smoke ? [100] : [1000, 10_000])
        let tick = tickMs ?? (target.smoke ? 200 : 1000)
        let holdSeconds = hold ?? (target.smoke ? 2 : 10)
        let settleSeconds = settle ?? (target.smoke ? 0.5 : 2)
        // Each side of every connection is a descriptor: the bench needs N, the gateway N.
        let wanted = (runCounts.max() ?? 0) + 1024
        let limit = FileDescriptorLimit.raise(toAtLeast: wanted)
        guard limit >= wanted else {
            throw BenchError.setup("the open-file limit is \(limit), \(wanted) are needed: raise the hard limit (ulimit -Hn) first")
        }
        var results: [JSONValue] = []
        var gatewayJSON: JSONValue = .null
        for count in runCounts {
            let config: JSONValue = ["gateway": ["limits": ["tickIntervalMs": .int(tick)]]]
            let result = try await target.withTarget(config: config) { gateway in
                gatewayJSON = gateway.json
                return try await ConnectionsLoad.run(
                    count: count, target: gateway, hold: holdSeconds, settle: settleSeconds, parallelism: setupParallelism
                )
            }
            target.summary(result.summaryLine)
            results.append(result.json)
        }
        try target.printJSON([
            "scenario": "connections", "gateway": gatewayJSON, "smoke": .bool(target.smoke),
            "settings": [
                "counts": .array(runCounts.map { .int($0) }), "tickIntervalMs": .int(tick), "holdSeconds": .double(holdSeconds),
                "settleSeconds": .double(settleSeconds), "setupParallelism": .int(setupParallelism),
                "openFileLimit": .int(limit),
            ],
            "results": .array(results),
        ])
    }
}

/// Tick timing shared by every connection's handler (on the event loops).
final class TickCollector: Sendable {
    struct State {
        /// Gap - interval, µs.
        var lateness = Tally().histogram
        /// Gateway timestamp (`payload.ts`, wall clock ms) → arrival, ms.
        var delay = Tally().histogram
        var ticksSeen = 0
    }

    let intervalNs = Atomic<UInt64>(0)
    /// Gaps whose both ends are after this (monotonic ns) count; 0: not measuring.
    private let measureFromNs = Atomic<UInt64>(0)
    private let state = Mutex(State())

    static let tickPrefix = ByteBuffer(string: #"{"type":"event","event":"tick""#)
    static let tsKey = Array(#""ts":"#.utf8)

    func start(atNs: UInt64) { measureFromNs.store(atNs, ordering: .releasing) }
    func stop() { measureFromNs.store(0, ordering: .releasing) }

    /// A frame arrived on a connection whose previous tick arrived at `previous`.
    func tick(_ buffer: ByteBuffer, arrivalNs: UInt64, watch: TickWatch) {
        guard buffer.readableBytesView.starts(with: Self.tickPrefix.readableBytesView) else { return }
        let previousNs = watch.lastNs.exchange(arrivalNs, ordering: .relaxed)
        let from = measureFromNs.load(ordering: .acquiring)
        guard from != 0, previousNs >= from else {
            state.withLock { $0.ticksSeen += 1 }
            return
        }
        let interval = intervalNs.load(ordering: .relaxed)
        let gap = arrivalNs - previousNs
        let latenessUs = gap > interval ? (gap - interval) / 1000 : 0
        var delayMs: UInt64?
        if let offset = buffer.offset(after: Self.tsKey), let ts = buffer.integer(atReadableOffset: offset) {
            let nowMs = Int(Date().timeIntervalSince1970 * 1000)
            delayMs = UInt64(max(0, nowMs - ts))
        }
        state.withLock { state in
            state.ticksSeen += 1
            _ = state.lateness.record(min(latenessUs, Tally.highestMicros))
            if let delayMs { _ = state.delay.record(max(1, min(delayMs, 60_000))) }
        }
    }

    var snapshot: State { state.withLock { $0 } }
}

/// One connection's last tick arrival.
final class TickWatch: Sendable {
    let lastNs = Atomic<UInt64>(0)
}

/// A counter shared with event-loop callbacks.
final class SharedCounter: Sendable {
    private let value = Atomic<Int>(0)

    func increment() { value.add(1, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}

enum ConnectionsLoad {
    struct Result: Sendable {
        var count: Int
        var connected: Int
        var dropped: Int
        var setupSeconds: Double
        var rssBefore: Int?
        var rssHeld: Int?
        var rssMaxHeld: Int?
        var tickIntervalMs: Int
        var holdSeconds: Double
        var ticks: TickCollector.State

        var perConnectionBytes: Double? {
            guard let rssBefore, let rssHeld, count > 0 else { return nil }
            return Double(rssHeld - rssBefore) / Double(count)
        }

        func ms(_ histogram: Histogram<UInt64>, _ percentile: Double, scale: Double) -> Double {
            histogram.totalCount == 0 ? 0 : Double(histogram.valueAtPercentile(percentile)) / scale
        }

        var summaryLine: String {
            func mb(_ bytes: Int?) -> String { bytes.map { String(format: "%.1f MB", ProcessStats.megabytes($0)) } ?? "n/a" }
            let per = perConnectionBytes.map { String(format: "%.1f KB/connection", $0 / 1024) } ?? "RSS n/a (no pid)"
            return "connections \(count): RSS \(mb(rssBefore)) → \(mb(rssHeld)), \(per); tick lateness p50 "
                + String(format: "%.2f ms, p99 %.2f ms, max %.2f ms", ms(ticks.lateness, 50, scale: 1000), ms(ticks.lateness, 99, scale: 1000), ms(ticks.lateness, 100, scale: 1000))
                + " (\(ticks.lateness.totalCount) gaps of \(tickIntervalMs) ms); tick delay p99 "
                + String(format: "%.0f ms", ms(ticks.delay, 99, scale: 1))
                + "; setup " + String(format: "%.1f s (%.0f connects/s)", setupSeconds, Double(connected) / max(setupSeconds, 1e-9))
                + ", \(dropped) dropped"
        }

        var json: JSONValue {
            func rounded(_ value: Double, _ digits: Double = 1000) -> JSONValue { .double((value * digits).rounded() / digits) }
            func mb(_ bytes: Int?) -> JSONValue { bytes.map { rounded(ProcessStats.megabytes($0)) } ?? .null }
            func percentiles(_ histogram: Histogram<UInt64>, scale: Double) -> JSONValue {
                [
                    "p50": rounded(ms(histogram, 50, scale: scale)), "p90": rounded(ms(histogram, 90, scale: scale)),
                    "p99": rounded(ms(histogram, 99, scale: scale)), "max": rounded(ms(histogram, 100, scale: scale)),
                ]
            }
            return [
                "connections": .int(count), "connected": .int(connected), "dropped": .int(dropped),
                "setupSeconds": rounded(setupSeconds), "connectsPerSecond": rounded(Double(connected) / max(setupSeconds, 1e-9), 10),
                "rssBeforeMB": mb(rssBefore), "rssHeldMB": mb(rssHeld), "rssMaxHeldMB": mb(rssMaxHeld),
                "rssPerConnectionKB": perConnectionBytes.map { rounded($0 / 1024) } ?? .null,
                "tickIntervalMs": .int(tickIntervalMs), "holdSeconds": .double(holdSeconds),
                "tickGaps": .int(Int(ticks.lateness.totalCount)), "ticksSeen": .int(ticks.ticksSeen),
                "tickLatenessMs": percentiles(ticks.lateness, scale: 1000), "tickDelayMs": percentiles(ticks.delay, scale: 1),
            ]
        }
    }

    static func run(count: Int, target: BenchTarget, hold: Double, settle: Double, parallelism: Int) async throws -> Result {
        guard let (host, port) = target.hostAndPort else { throw BenchError.setup("cannot read host and port from \(target.url)") }
        let options = GatewayClientOptions(url: target.url, token: target.token, client: BenchIdentity.client, scopes: [])
        let collector = TickCollector()
        let dropped = SharedCounter()
        try await Task.sleep(for: .seconds(1))
        let rssBefore = target.residentBytes()

        note("connections: connecting \(count) clients, \(parallelism) at a time")
        let setupStartNs = MonotonicClock.nowNs()
        let sockets = try await withThrowingTaskGroup(of: LeanGatewaySocket.self) { group in
            var sockets: [LeanGatewaySocket] = []
            sockets.reserveCapacity(count)
            var started = 0
            func add() {
                let watch = TickWatch()
                group.addTask {
                    try await LeanGatewaySocket.connect(
                        host: host, port: port, options: options,
                        onEvent: { buffer, arrivalNs in collector.tick(buffer, arrivalNs: arrivalNs, watch: watch) },
                        onClose: { dropped.increment() }
                    )
                }
                started += 1
            }
            while started < min(parallelism, count) { add() }
            do {
                while let socket = try await group.next() {
                    sockets.append(socket)
                    if started < count { add() }
                }
            } catch {
                for socket in sockets { await socket.close() }
                throw error
            }
            return sockets
        }
        let setupSeconds = Double(MonotonicClock.nowNs() - setupStartNs) / 1e9
        let interval = sockets.first?.hello["policy"]?["tickIntervalMs"]?.intValue ?? 30_000
        collector.intervalNs.store(UInt64(interval) * 1_000_000, ordering: .releasing)
        note("connections: \(sockets.count) connected in \(String(format: "%.1f", setupSeconds)) s; settling \(settle) s, then holding \(hold) s (ticks every \(interval) ms)")

        try await Task.sleep(for: .seconds(settle))
        let rssHeld = target.residentBytes()
        collector.start(atNs: MonotonicClock.nowNs())
        var rssMax = rssHeld
        let holdEndNs = MonotonicClock.nowNs() + UInt64(hold * 1e9)
        while MonotonicClock.nowNs() < holdEndNs {
            let remaining = Double(holdEndNs - MonotonicClock.nowNs()) / 1e9
            try await Task.sleep(for: .seconds(min(1, max(0.001, remaining))))
            if let rss = target.residentBytes() { rssMax = max(rssMax ?? rss, rss) }
        }
        collector.stop()
        let ticks = collector.snapshot
        let droppedCount = dropped.count

        note("connections: closing \(sockets.count) clients")
        await withTaskGroup(of: Void.self) { group in
            for socket in sockets { group.addTask { await socket.close() } }
        }
        return Result(
            count: count, connected: sockets.count, dropped: droppedCount, setupSeconds: setupSeconds, rssBefore: rssBefore,
            rssHeld: rssHeld, rssMaxHeld: rssMax, tickIntervalMs: interval, holdSeconds: hold, ticks: ticks
        )
    }
}
