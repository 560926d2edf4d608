import ArgumentParser
import AsyncHTTPClient
import ClawgateClient
import ClawgateProtocol
import ClawgateUpstream
import Foundation
import Histogram
import Logging
import Synchronization

/// `clawgate-bench soak`: a steady mixed load for a long time, watching the gateway's memory
/// and whether latency creeps up.
struct SoakBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Mixed load (rpc + durable mesh delegations + proxied chat) for --duration: RSS slope (MB/hour) and p99 drift.",
        discussion: """
            Three paced loads run at once against one gateway: `health` calls (--rpc-rate, over 4 connections), durable \
            mesh round trips (--mesh-rate, delegate → offer → accept → complete → result → ack, over 2 pairs) and \
            stateless /v1/chat/completions through the gateway to a local upstream in this process (--proxy-rate, open \
            loop). Latency runs from each operation's due time, so a stall shows up as latency. The gateway's VmRSS is \
            sampled every --sample-interval seconds; the slope is a least-squares fit over the samples after the first \
            20 % of the run (the warm-up). p99 drift compares the first and the last --window of the run.
            """
    )

    @OptionGroup var target: TargetOptions

    @Option(help: "Seconds of load (default 600; --smoke: 6). 3600 for the record.")
    var duration: Double?

    @Option(name: .customLong("sample-interval"), help: "Seconds between RSS samples (default 10; --smoke: 1).")
    var sampleInterval: Double?

    @Option(help: "Seconds per latency window for the p99 drift (default duration / 10).")
    var window: Double?

    @Option(name: .customLong("rpc-rate"), help: "health calls per second (default 200; --smoke: 50).")
    var rpcRate: Double?

    @Option(name: .customLong("mesh-rate"), help: "Durable mesh round trips per second (default 20; --smoke: 5).")
    var meshRate: Double?

    @Option(name: .customLong("proxy-rate"), help: "Chat completions per second through the gateway (default 50; --smoke: 10).")
    var proxyRate: Double?

    func validate() throws {
        if target.url != nil { throw ValidationError("soak starts its own gateway (its proxy load needs the upstream in this process): --url does not apply") }
        if let duration, !(duration > 0) { throw ValidationError("--duration must be > 0") }
        if let sampleInterval, !(sampleInterval > 0) { throw ValidationError("--sample-interval must be > 0") }
        if let window, !(window > 0) { throw ValidationError("--window must be > 0") }
        for (name, rate) in [("--rpc-rate", rpcRate), ("--mesh-rate", meshRate), ("--proxy-rate", proxyRate)] {
            if let rate, !(rate > 0 && rate <= 100_000) { throw ValidationError("\(name) must be > 0 and <= 100000") }
        }
    }

    func run() async throws {
        let smoke = target.smoke
        let plan = SoakLoad.Plan(
            duration: duration ?? (smoke ? 6 : 600), sampleInterval: sampleInterval ?? (smoke ? 1 : 10),
            window: window ?? (duration ?? (smoke ? 6 : 600)) / 10,
            rates: [
                .rpc: rpcRate ?? (smoke ? 50 : 200), .mesh: meshRate ?? (smoke ? 5 : 20), .proxy: proxyRate ?? (smoke ? 10 : 50),
            ]
        )
        let upstream = try await UpstreamServer.start(recordsRequests: false)
        let outcome: Result<(SoakLoad.Result, BenchTarget), any Error>
        do {
            outcome = .success(
                try await target.withTarget(config: ProxyBenchCommand.gatewayConfig(upstreamBaseURL: upstream.openAIBaseURL)) { gateway in
                    (try await SoakLoad.run(plan, target: gateway, upstream: upstream), gateway)
                }
            )
        } catch {
            outcome = .failure(error)
        }
        await upstream.shutdown()
        let (result, gateway) = try outcome.get()
        target.summary(result.summaryLine)
        try target.printJSON([
            "scenario": "soak", "gateway": gateway.json, "smoke": .bool(smoke), "settings": plan.json, "results": [result.json],
        ])
        if result.workloads.values.contains(where: { $0.count == 0 }) {
            throw BenchError.setup("a soak load completed no operation")
        }
    }
}

/// Latencies of the soak's loads per time window.
final class SoakRecorder: Sendable {
    struct Workload: Sendable {
        var windows: [Int: Histogram<UInt64>] = [:]
        var all = Tally().histogram
        var count = 0
        var errors = 0
        var errorSamples: [String] = []
    }

    let startNs: UInt64
    let windowNs: UInt64
    private let state = Mutex([SoakLoad.Kind: Workload]())

    init(startNs: UInt64, windowNs: UInt64) {
        self.startNs = startNs
        self.windowNs = windowNs
    }

    /// An operation that was due at `dueNs` ended at `endNs`.
    func success(_ kind: SoakLoad.Kind, dueNs: UInt64, endNs: UInt64) {
        let window = Int((dueNs &- startNs) / windowNs)
        let micros = Tally.micros(dueNs, endNs)
        state.withLock { state in
            var workload = state[kind] ?? Workload()
            _ = workload.windows[window, default: Tally().histogram].record(micros)
            _ = workload.all.record(micros)
            workload.count += 1
            state[kind] = workload
        }
    }

    func failure(_ kind: SoakLoad.Kind, _ error: any Error) {
        state.withLock { state in
            var workload = state[kind] ?? Workload()
            workload.errors += 1
            if workload.errorSamples.count < 3 { workload.errorSamples.append(String(describing: error).prefix(300).description) }
            state[kind] = workload
        }
    }

    var snapshot: [SoakLoad.Kind: Workload] { state.withLock { $0 } }
}

enum SoakLoad {
    enum Kind: String, Sendable, CaseIterable, Comparable {
        case rpc, mesh, proxy

        static func < (lhs: Kind, rhs: Kind) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    struct Plan: Sendable {
        var duration: Double
        var sampleInterval: Double
        var window: Double
        var rates: [Kind: Double]
        var rpcConnections = 4
        var meshPairs = 2

        var json: JSONValue {
            [
                "durationSeconds": .double(duration), "sampleIntervalSeconds": .double(sampleInterval), "windowSeconds": .double(window),
                "rates": .object(Dictionary(uniqueKeysWithValues: rates.map { ($0.key.rawValue, JSONValue.double($0.value)) })),
                "rpcConnections": .int(rpcConnections), "meshPairs": .int(meshPairs), "warmupFraction": .double(Result.warmupFraction),
            ]
        }
    }

    struct Result: Sendable {
        static let warmupFraction = 0.2

        var duration: Double
        /// (seconds since the load started, bytes).
        var samples: [(seconds: Double, bytes: Int)]
        var workloads: [Kind: SoakRecorder.Workload]
        var windowCount: Int

        var slopeSamples: [(seconds: Double, bytes: Int)] { samples.filter { $0.seconds >= duration * Self.warmupFraction } }

        /// MB per hour, least squares over the samples after the warm-up.
        var slopeMBPerHour: Double? {
            Statistics.slope(slopeSamples.map { ($0.seconds, ProcessStats.megabytes($0.bytes)) }).map { $0 * 3600 }
        }

        static func ms(_ histogram: Histogram<UInt64>?, _ percentile: Double) -> Double {
            guard let histogram, histogram.totalCount > 0 else { return 0 }
            return Double(histogram.valueAtPercentile(percentile)) / 1000
        }

        /// The first and the last window that saw operations.
        func drift(_ workload: SoakRecorder.Workload) -> (first: Double, last: Double)? {
            let windows = workload.windows.keys.filter { $0 >= 0 && $0 < windowCount }.sorted()
            guard let first = windows.first, let last = windows.last else { return nil }
            return (Self.ms(workload.windows[first], 99), Self.ms(workload.windows[last], 99))
        }

        var summaryLine: String {
            func mb(_ bytes: Int?) -> String { bytes.map { String(format: "%.1f MB", ProcessStats.megabytes($0)) } ?? "n/a" }
            var line = "soak \(Int(duration)) s: RSS \(mb(samples.first?.bytes)) → \(mb(samples.last?.bytes)), slope "
                + (slopeMBPerHour.map { String(format: "%+.2f MB/hour", $0) } ?? "n/a")
                + " after warm-up (\(slopeSamples.count) samples); p99 first → last window: "
            line += Kind.allCases.compactMap { kind -> String? in
                guard let workload = workloads[kind] else { return nil }
                let (first, last) = drift(workload) ?? (0, 0)
                return "\(kind.rawValue) " + String(format: "%.2f → %.2f ms", first, last)
            }.joined(separator: ", ")
            let counts = Kind.allCases.map { "\(workloads[$0]?.count ?? 0) \($0.rawValue)" }.joined(separator: ", ")
            let errors = workloads.values.reduce(0) { $0 + $1.errors }
            return line + "; \(counts), \(errors) errors"
        }

        var json: JSONValue {
            func rounded(_ value: Double, _ digits: Double = 1000) -> JSONValue { .double((value * digits).rounded() / digits) }
            var loads: [String: JSONValue] = [:]
            for (kind, workload) in workloads {
                let (first, last) = drift(workload) ?? (0, 0)
                var object: [String: JSONValue] = [
                    "count": .int(workload.count), "errors": .int(workload.errors), "rate": rounded(Double(workload.count) / duration, 10),
                    "latencyMs": [
                        "p50": rounded(Self.ms(workload.all, 50)), "p99": rounded(Self.ms(workload.all, 99)),
                        "max": rounded(Self.ms(workload.all, 100)),
                    ],
                    "firstWindowP99Ms": rounded(first), "lastWindowP99Ms": rounded(last), "p99DriftMs": rounded(last - first),
                    "windowP99Ms": .array(workload.windows.keys.sorted().filter { $0 < windowCount }.map { rounded(Self.ms(workload.windows[$0], 99)) }),
                ]
                if !workload.errorSamples.isEmpty { object["errorSamples"] = .array(workload.errorSamples.map { .string($0) }) }
                loads[kind.rawValue] = .object(object)
            }
            return [
                "durationSeconds": .double(duration),
                "rssSamples": .array(samples.map { [rounded($0.seconds), rounded(ProcessStats.megabytes($0.bytes))] }),
                "rssStartMB": samples.first.map { rounded(ProcessStats.megabytes($0.bytes)) } ?? .null,
                "rssEndMB": samples.last.map { rounded(ProcessStats.megabytes($0.bytes)) } ?? .null,
                "rssMaxMB": samples.map(\.bytes).max().map { rounded(ProcessStats.megabytes($0)) } ?? .null,
                "rssSlopeMBPerHour": slopeMBPerHour.map { rounded($0) } ?? .null, "slopeSamples": .int(slopeSamples.count),
                "workloads": .object(loads),
            ]
        }
    }

    static func run(_ plan: Plan, target: BenchTarget, upstream: UpstreamServer) async throws -> Result {
        let identity = try await BenchIdentity.pair(target)
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(120), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(30))
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let outcome: Swift.Result<Result, any Error>
        do {
            let proxy = try ProxyLoad.Endpoint(name: "gateway", http: http, baseURL: target.httpBase + "/v1", token: target.token, model: "openclaw")
            try await proxy.complete()
            outcome = .success(try await run(plan, target: target, identity: identity, proxy: proxy))
        } catch {
            outcome = .failure(error)
        }
        try? await http.shutdown()
        return try outcome.get()
    }

    private static func run(_ plan: Plan, target: BenchTarget, identity: BenchIdentity, proxy: ProxyLoad.Endpoint) async throws -> Result {
        let startNs = MonotonicClock.nowNs() + 200_000_000
        let endNs = startNs + UInt64(plan.duration * 1e9)
        let recorder = SoakRecorder(startNs: startNs, windowNs: UInt64(plan.window * 1e9))
        let logger = Logger(label: "clawgate-bench")
        note("soak: \(plan.duration) s; rates \(plan.rates.sorted { $0.key < $1.key }.map { "\($0.key.rawValue) \($0.value)/s" }.joined(separator: ", ")); RSS every \(plan.sampleInterval) s")
        let samples = try await withThrowingTaskGroup(of: [(seconds: Double, bytes: Int)].self) { group in
            group.addTask {
                try await sampleRSS(target: target, startNs: startNs, endNs: endNs, interval: plan.sampleInterval)
            }
            for index in 0..<plan.rpcConnections {
                let rate = (plan.rates[.rpc] ?? 1) / Double(plan.rpcConnections)
                group.addTask {
                    try await GatewayClient.withConnection(identity.options(), logger: logger) { connection in
                        try await paced(rate: rate, offsetFraction: Double(index) / Double(plan.rpcConnections), startNs: startNs, endNs: endNs) { dueNs in
                            try await connection.call("health")
                            recorder.success(.rpc, dueNs: dueNs, endNs: MonotonicClock.nowNs())
                        }
                    }
                    return []
                }
            }
            let runId = shortRunId()
            for index in 0..<plan.meshPairs {
                let rate = (plan.rates[.mesh] ?? 1) / Double(plan.meshPairs)
                group.addTask {
                    try await meshPair(
                        index, runId: runId, identity: identity, rate: rate, startNs: startNs, endNs: endNs, recorder: recorder, logger: logger
                    )
                    return []
                }
            }
            group.addTask {
                await openLoop(rate: plan.rates[.proxy] ?? 1, startNs: startNs, endNs: endNs) { dueNs in
                    do {
                        try await proxy.complete()
                        recorder.success(.proxy, dueNs: dueNs, endNs: MonotonicClock.nowNs())
                    } catch {
                        recorder.failure(.proxy, error)
                    }
                }
                return []
            }
            var samples: [(seconds: Double, bytes: Int)] = []
            for try await part in group where !part.isEmpty { samples = part }
            return samples
        }
        return Result(
            duration: plan.duration, samples: samples, workloads: recorder.snapshot,
            windowCount: Int((plan.duration / plan.window).rounded(.down))
        )
    }

    /// The gateway's RSS at the start and every `interval` seconds until `endNs`.
    private static func sampleRSS(target: BenchTarget, startNs: UInt64, endNs: UInt64, interval: Double) async throws -> [(seconds: Double, bytes: Int)] {
        var samples: [(seconds: Double, bytes: Int)] = []
        var next = startNs
        while next <= endNs {
            let now = MonotonicClock.nowNs()
            if next > now { try await Task.sleep(nanoseconds: next - now) }
            if let bytes = target.residentBytes() {
                samples.append((Double(MonotonicClock.nowNs() &- startNs) / 1e9, bytes))
            }
            next += UInt64(interval * 1e9)
        }
        return samples
    }

    /// Runs `operation` at `rate` per second, one at a time: each is due at start + i / rate
    /// (shifted by `offsetFraction` of an interval); a late one starts at once.
    private static func paced(
        rate: Double, offsetFraction: Double = 0, startNs: UInt64, endNs: UInt64, _ operation: (UInt64) async throws -> Void
    ) async throws {
        let interval = 1e9 / rate
        var index = 0.0
        while true {
            let dueNs = startNs + UInt64((index + offsetFraction) * interval)
            guard dueNs < endNs else { return }
            let now = MonotonicClock.nowNs()
            if dueNs > now { try await Task.sleep(nanoseconds: dueNs - now) }
            try await operation(dueNs)
            index += 1
        }
    }

    /// Starts `operation` at `rate` per second whether or not earlier ones finished (at most
    /// 256 in flight), so a slow answer does not delay the next request.
    private static func openLoop(rate: Double, startNs: UInt64, endNs: UInt64, _ operation: @escaping @Sendable (UInt64) async -> Void) async {
        let interval = 1e9 / rate
        await withTaskGroup(of: Void.self) { group in
            var index = 0.0
            var inFlight = 0
            while true {
                let dueNs = startNs + UInt64(index * interval)
                guard dueNs < endNs else { break }
                let now = MonotonicClock.nowNs()
                if dueNs > now { try? await Task.sleep(nanoseconds: dueNs - now) }
                if inFlight >= 256 {
                    await group.next()
                    inFlight -= 1
                }
                group.addTask { await operation(dueNs) }
                inFlight += 1
                index += 1
            }
            await group.waitForAll()
        }
    }

    /// One delegator/worker pair doing durable round trips at `rate`.
    private static func meshPair(
        _ index: Int, runId: String, identity: BenchIdentity, rate: Double, startNs: UInt64, endNs: UInt64, recorder: SoakRecorder,
        logger: Logger
    ) async throws {
        let namespace = "soak-\(runId)"
        let workerId = "soak-\(runId)-w\(index)"
        try await GatewayClient.withConnection(identity.options(), logger: logger) { delegator in
            try await GatewayClient.withConnection(identity.options(), logger: logger) { worker in
                _ = try await delegator.call(
                    "mesh.register", MeshRegisterParams(agentId: "soak-\(runId)-d\(index)", name: "soak delegator", namespace: namespace),
                    as: JSONValue.self
                )
                _ = try await worker.call(
                    "mesh.register",
                    MeshRegisterParams(agentId: workerId, name: "soak worker", namespace: namespace, capabilities: ["bench.echo"]),
                    as: JSONValue.self
                )
                let schedule = Schedule(startNs: startNs, warmup: 0, duration: Double(endNs - startNs) / 1e9)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { _ = try await MeshWebSocketLoad.workerLoop(worker, schedule: schedule) }
                    group.addTask {
                        var events = delegator.events.makeAsyncIterator()
                        var tally = Tally()
                        var sequence = 0
                        try await paced(rate: rate, offsetFraction: Double(index) / 2, startNs: startNs, endNs: endNs) { dueNs in
                            sequence += 1
                            let times = try await MeshWebSocketLoad.roundTrip(
                                delegator, events: &events, workerId: workerId, sequence: sequence, tally: &tally
                            )
                            recorder.success(.mesh, dueNs: dueNs, endNs: times.endNs)
                        }
                    }
                    // The delegator ends at the deadline; then the worker is stopped.
                    try await group.next()
                    group.cancelAll()
                    try await group.waitForAll()
                }
            }
        }
    }
}
