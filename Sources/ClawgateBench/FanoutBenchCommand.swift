import ArgumentParser
import ClawgateClient
import ClawgateProtocol
import Foundation
import Histogram
import NIOCore
import Synchronization

/// `clawgate-bench fanout`: one `mesh.broadcast` to N connected mesh agents; how long until the
/// last of them has it.
struct FanoutBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout",
        abstract: "A mesh.broadcast to N connected agents: time until the last one has it, messages/s.",
        discussion: """
            N agents (lean NIO clients sharing one paired device, cli clients, not in presence) each register in one \
            namespace; a sender agent of the same namespace calls mesh.broadcast --rounds times. Each round is timed \
            from sending mesh.broadcast until the last agent read its mesh.delivery push; messages/s = N / that time. \
            After each round (untimed) every agent acknowledges its delivery, so no redelivery overlaps the next.
            """
    )

    @OptionGroup var target: TargetOptions

    @Option(help: "Connected agents that receive each broadcast (default 1000; --smoke: 20).")
    var agents: Int?

    @Option(help: "Broadcasts, one at a time (default 10; --smoke: 3).")
    var rounds: Int?

    @Option(name: .customLong("setup-parallelism"), help: "Agents connecting and registering at once (default 32).")
    var setupParallelism = 32

    @Option(name: .customLong("round-timeout"), help: "Seconds a round may take before the run fails (default 60).")
    var roundTimeout: Double = 60

    func validate() throws {
        if let agents, !(1...50_000).contains(agents) { throw ValidationError("--agents must be 1 to 50000") }
        if let rounds, !(1...10_000).contains(rounds) { throw ValidationError("--rounds must be 1 to 10000") }
        if !(1...250).contains(setupParallelism) { throw ValidationError("--setup-parallelism must be 1 to 250") }
        if !(roundTimeout > 0) { throw ValidationError("--round-timeout must be > 0") }
    }

    func run() async throws {
        let agentCount = agents ?? (target.smoke ? 20 : 1000)
        let roundCount = rounds ?? (target.smoke ? 3 : 10)
        let limit = FileDescriptorLimit.raise(toAtLeast: agentCount + 1024)
        guard limit >= agentCount + 256 else {
            throw BenchError.setup("the open-file limit is \(limit), \(agentCount + 256) are needed: raise ulimit -Hn first")
        }
        try await target.withTarget { gateway in
            let result = try await FanoutLoad.run(
                agents: agentCount, rounds: roundCount, target: gateway, parallelism: setupParallelism, roundTimeout: roundTimeout
            )
            target.summary(result.summaryLine)
            try target.printJSON([
                "scenario": "fanout", "gateway": gateway.json, "smoke": .bool(target.smoke),
                "settings": ["agents": .int(agentCount), "rounds": .int(roundCount), "setupParallelism": .int(setupParallelism)],
                "results": [result.json],
            ])
        }
    }
}

/// Collects the agents' `mesh.delivery` pushes of the current round (on the event loops).
final class FanoutCollector: Sendable {
    struct Arrival: Sendable {
        var agent: Int
        var arrivalNs: UInt64
        var frame: ByteBuffer
    }

    private struct State {
        var round = 0
        var seen: Set<Int> = []
        var arrivals: [Arrival] = []
    }

    private let marker: [UInt8]
    private let state = Mutex(State())
    static let deliveryPrefix = ByteBuffer(string: #"{"type":"event","event":"mesh.delivery""#)

    /// `marker`: the broadcast content up to the round number (`fanout-<run>-r`).
    init(marker: String) {
        self.marker = Array(marker.utf8)
    }

    func begin(round: Int) {
        state.withLock { $0 = State(round: round) }
    }

    func arrived(agent: Int, _ frame: ByteBuffer, arrivalNs: UInt64) {
        guard frame.readableBytesView.starts(with: Self.deliveryPrefix.readableBytesView),
            let offset = frame.offset(after: marker), let round = frame.integer(atReadableOffset: offset)
        else { return }
        state.withLock { state in
            // A redelivery (or a late copy of an older round) is not this round's news.
            guard round == state.round, state.seen.insert(agent).inserted else { return }
            state.arrivals.append(Arrival(agent: agent, arrivalNs: arrivalNs, frame: frame))
        }
    }

    var count: Int { state.withLock { $0.seen.count } }
    var arrivals: [Arrival] { state.withLock { $0.arrivals } }
}

enum FanoutLoad {
    struct Round: Sendable {
        var round: Int
        var recipients: Int
        var callNs: UInt64
        var toLastNs: UInt64
        var toMedianNs: UInt64
    }

    struct Result: Sendable {
        var agents: Int
        var setupSeconds: Double
        var rounds: [Round]
        /// Broadcast sent → each agent's arrival, µs, all rounds.
        var deliveries: Histogram<UInt64>

        var toLastMs: [Double] { rounds.map { Double($0.toLastNs) / 1e6 } }
        var messagesPerSecond: Double {
            let totalNs = rounds.reduce(UInt64(0)) { $0 + $1.toLastNs }
            return totalNs == 0 ? 0 : Double(agents * rounds.count) / (Double(totalNs) / 1e9)
        }

        func deliveryMs(_ percentile: Double) -> Double {
            deliveries.totalCount == 0 ? 0 : Double(deliveries.valueAtPercentile(percentile)) / 1000
        }

        var summaryLine: String {
            "fanout \(agents) agents: time to last p50 " + String(format: "%.2f ms", Statistics.median(toLastMs))
                + String(format: " (min %.2f, max %.2f) over %d broadcasts, %.0f messages/s", toLastMs.min() ?? 0, toLastMs.max() ?? 0, rounds.count, messagesPerSecond)
                + String(format: "; per delivery p50 %.2f ms, p99 %.2f ms", deliveryMs(50), deliveryMs(99))
                + String(format: "; mesh.broadcast call p50 %.2f ms", Statistics.median(rounds.map { Double($0.callNs) / 1e6 }))
        }

        var json: JSONValue {
            func rounded(_ value: Double, _ digits: Double = 1000) -> JSONValue { .double((value * digits).rounded() / digits) }
            let calls = rounds.map { Double($0.callNs) / 1e6 }
            return [
                "agents": .int(agents), "rounds": .int(rounds.count), "setupSeconds": rounded(setupSeconds),
                "messagesPerSecond": rounded(messagesPerSecond, 10),
                "timeToLastMs": [
                    "p50": rounded(Statistics.median(toLastMs)), "min": rounded(toLastMs.min() ?? 0), "max": rounded(toLastMs.max() ?? 0),
                    "mean": rounded(toLastMs.reduce(0, +) / Double(max(1, toLastMs.count))),
                ],
                "deliveryMs": [
                    "p50": rounded(deliveryMs(50)), "p90": rounded(deliveryMs(90)), "p99": rounded(deliveryMs(99)),
                    "max": rounded(deliveryMs(100)),
                ],
                "broadcastCallMs": ["p50": rounded(Statistics.median(calls)), "max": rounded(calls.max() ?? 0)],
                "perRound": .array(rounds.map { round in
                    [
                        "round": .int(round.round), "recipients": .int(round.recipients),
                        "toLastMs": rounded(Double(round.toLastNs) / 1e6), "toMedianMs": rounded(Double(round.toMedianNs) / 1e6),
                        "callMs": rounded(Double(round.callNs) / 1e6),
                    ]
                }),
            ]
        }
    }

    static func run(agents: Int, rounds: Int, target: BenchTarget, parallelism: Int, roundTimeout: Double) async throws -> Result {
        guard let (host, port) = target.hostAndPort else { throw BenchError.setup("cannot read host and port from \(target.url)") }
        let identity = try await BenchIdentity.pair(target)
        let options = identity.options()
        let runId = shortRunId()
        let namespace = "fanout-\(runId)"
        let collector = FanoutCollector(marker: "fanout-\(runId)-r")

        note("fanout: connecting and registering \(agents) agents, \(parallelism) at a time")
        let setupStartNs = MonotonicClock.nowNs()
        @Sendable func agent(_ index: Int) async throws -> LeanGatewaySocket {
            let socket = try await LeanGatewaySocket.connect(
                host: host, port: port, options: options,
                onEvent: { frame, arrivalNs in collector.arrived(agent: index, frame, arrivalNs: arrivalNs) }
            )
            do {
                try await socket.call(
                    "mesh.register",
                    params: ["agentId": .string("fan-\(runId)-\(index)"), "name": .string("fanout agent \(index)"), "namespace": .string(namespace)]
                )
            } catch {
                await socket.close()
                throw error
            }
            return socket
        }
        let sockets = try await withThrowingTaskGroup(of: (Int, LeanGatewaySocket).self) { group in
            var sockets: [LeanGatewaySocket?] = Array(repeating: nil, count: agents)
            var started = 0
            while started < min(parallelism, agents) {
                let index = started
                group.addTask { (index, try await agent(index)) }
                started += 1
            }
            do {
                while let (index, socket) = try await group.next() {
                    sockets[index] = socket
                    if started < agents {
                        let next = started
                        group.addTask { (next, try await agent(next)) }
                        started += 1
                    }
                }
            } catch {
                for socket in sockets.compactMap({ $0 }) { await socket.close() }
                throw error
            }
            return sockets.compactMap { $0 }
        }
        let sender = try await LeanGatewaySocket.connect(host: host, port: port, options: options)
        try await sender.call(
            "mesh.register", params: ["agentId": .string("fan-\(runId)-sender"), "name": "fanout sender", "namespace": .string(namespace)]
        )
        let setupSeconds = Double(MonotonicClock.nowNs() - setupStartNs) / 1e9
        note("fanout: \(sockets.count) agents ready in \(String(format: "%.1f", setupSeconds)) s")

        let outcome: Swift.Result<Result, any Error>
        do {
            try await Task.sleep(for: .seconds(1))
            var measured: [Round] = []
            var deliveries = Tally().histogram
            for round in 1...rounds {
                collector.begin(round: round)
                let startNs = MonotonicClock.nowNs()
                let answer = try await sender.call("mesh.broadcast", params: ["content": .string("fanout-\(runId)-r\(round)")])
                let callNs = MonotonicClock.nowNs() - startNs
                let recipients = answer["recipients"]?.intValue ?? -1
                guard recipients == agents else {
                    throw BenchError.protocolViolation("mesh.broadcast reached \(recipients) recipients, expected \(agents): \(answer)")
                }
                let deadlineNs = startNs + UInt64(roundTimeout * 1e9)
                while collector.count < agents {
                    guard MonotonicClock.nowNs() < deadlineNs else {
                        throw BenchError.protocolViolation("round \(round): only \(collector.count) of \(agents) agents got the broadcast within \(roundTimeout) s")
                    }
                    try await Task.sleep(for: .milliseconds(1))
                }
                let arrivals = collector.arrivals
                let times = arrivals.map { $0.arrivalNs - startNs }.sorted()
                for time in times { _ = deliveries.record(Tally.micros(0, time)) }
                measured.append(
                    Round(round: round, recipients: recipients, callNs: callNs, toLastNs: times.last ?? 0, toMedianNs: times[times.count / 2])
                )
                try await acknowledge(arrivals, sockets: sockets)
            }
            outcome = .success(Result(agents: agents, setupSeconds: setupSeconds, rounds: measured, deliveries: deliveries))
        } catch {
            outcome = .failure(error)
        }
        note("fanout: closing \(sockets.count + 1) connections")
        await sender.close()
        await withTaskGroup(of: Void.self) { group in
            for socket in sockets { group.addTask { await socket.close() } }
        }
        return try outcome.get()
    }

    /// Every agent acknowledges the delivery it got (untimed), 64 at a time.
    private static func acknowledge(_ arrivals: [FanoutCollector.Arrival], sockets: [LeanGatewaySocket]) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var inFlight = 0
            for arrival in arrivals {
                let value = try JSONCoding.decode(JSONValue.self, from: Data(arrival.frame.readableBytesView))
                guard let deliveryId = value["payload"]?["deliveryId"]?.stringValue else {
                    throw BenchError.protocolViolation("mesh.delivery without deliveryId: \(value)")
                }
                let socket = sockets[arrival.agent]
                group.addTask {
                    let acked = try await socket.call("mesh.ack", params: ["deliveryIds": [.string(deliveryId)]])
                    guard acked["acked"]?.intValue == 1 else { throw BenchError.protocolViolation("mesh.ack answered \(acked)") }
                }
                inFlight += 1
                if inFlight >= 64 {
                    try await group.next()
                    inFlight -= 1
                }
            }
            try await group.waitForAll()
        }
    }
}
