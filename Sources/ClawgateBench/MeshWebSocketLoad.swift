import ClawgateClient
import ClawgateProtocol
import Foundation
import Logging

/// How a load run is shaped (shared by every scenario).
struct LoadSettings: Sendable {
    var concurrency: Int
    var duration: Double
    var warmup: Double
    /// WS mesh only: all pairs in one namespace (every connection then also receives every
    /// pair's `mesh.event` pushes, as agents of one team do) or one namespace per pair.
    var namespacePerPair: Bool
    /// WS mesh only: register the agents with `events: true` (live `mesh.event` pushes of the
    /// namespace's log, which the gateway sends to every such connection of the namespace).
    var liveEvents: Bool = false
    /// How many load tasks may connect and register at the same time.
    var setupParallelism: Int = 4
}

/// Durable delegation round trips over the gateway WebSocket.
///
/// Each pair is a delegator and a worker, each on its own connection and agent. The worker
/// answers every pushed offer with `mesh.accept` then `mesh.complete`; the delegator runs
/// `mesh.delegate` → waits for the pushed `task_result` delivery → `mesh.ack`, back to back,
/// timing each round trip from sending the delegate to the ack's response.
enum MeshWebSocketLoad {
    static func agentOptions(_ target: BenchTarget) -> GatewayClientOptions {
        // A local agent process: a trusted backend on loopback keeps its read/write scopes.
        GatewayClientOptions(
            url: target.url, token: target.token,
            client: ClientInfo(id: "gateway-client", version: "bench", platform: "linux", mode: "backend"),
            scopes: [OperatorScope.read, OperatorScope.write], connectTimeout: .seconds(30), requestTimeout: .seconds(30)
        )
    }

    static func run(_ settings: LoadSettings, target: BenchTarget) async throws -> RunResult {
        let runId = shortRunId()
        let setupStartNs = MonotonicClock.nowNs()
        let barrier = StartBarrier(parties: settings.concurrency, warmup: settings.warmup, duration: settings.duration)
        let gate = SetupGate(limit: settings.setupParallelism)
        let logger = Logger(label: "clawgate-bench")
        let outcomes = try await barrier.runParties(settings.concurrency) { index in
            try await pair(index, runId: runId, settings: settings, target: target, gate: gate, barrier: barrier, logger: logger)
        }
        guard let schedule = outcomes.first?.1 else { throw BenchError.setup("no pairs ran") }
        let setupSeconds = Double(schedule.startNs - setupStartNs) / 1e9
        return RunResult(
            scenario: "mesh", transport: "ws", concurrency: settings.concurrency, unit: settings.concurrency == 1 ? "pair" : "pairs",
            operation: "round trips", rateUnit: "rt/s", tally: Tally.merged(outcomes.map(\.0)), schedule: schedule,
            extra: [
                "namespaces": .string(settings.namespacePerPair ? "per-pair" : "shared"),
                "liveEvents": .bool(settings.liveEvents),
                "setupSeconds": .double((setupSeconds * 1000).rounded() / 1000),
            ],
            stepOrder: ["delegate", "until-result", "accept", "complete", "ack"]
        )
    }

    private static func pair(
        _ index: Int, runId: String, settings: LoadSettings, target: BenchTarget, gate: SetupGate, barrier: StartBarrier,
        logger: Logger
    ) async throws -> (Tally, Schedule) {
        let namespace = settings.namespacePerPair ? "bench-\(runId)-\(index)" : "bench-\(runId)"
        let delegatorId = "bench-\(runId)-d\(index)"
        let workerId = "bench-\(runId)-w\(index)"
        let options = agentOptions(target)
        let ticket = await gate.enter()
        do {
            return try await pairSession(
                index, namespace: namespace, delegatorId: delegatorId, workerId: workerId, liveEvents: settings.liveEvents,
                options: options, ticket: ticket, barrier: barrier, logger: logger
            )
        } catch {
            await ticket.release()
            throw error
        }
    }

    private static func pairSession(
        _ index: Int, namespace: String, delegatorId: String, workerId: String, liveEvents: Bool, options: GatewayClientOptions,
        ticket: SetupGate.Ticket, barrier: StartBarrier, logger: Logger
    ) async throws -> (Tally, Schedule) {
        try await GatewayClient.withConnection(options, logger: logger) { delegator in
            try await GatewayClient.withConnection(options, logger: logger) { worker in
                var delegatorProfile = MeshRegisterParams(agentId: delegatorId, name: "bench delegator \(index)", namespace: namespace)
                var workerProfile = MeshRegisterParams(
                    agentId: workerId, name: "bench worker \(index)", namespace: namespace, capabilities: ["bench.echo"]
                )
                if liveEvents {
                    delegatorProfile.events = true
                    workerProfile.events = true
                }
                _ = try await delegator.call("mesh.register", delegatorProfile, as: JSONValue.self)
                _ = try await worker.call("mesh.register", workerProfile, as: JSONValue.self)
                await ticket.release()
                // Every later connection announced itself to these two (`presence` with the whole
                // list); a call answered after that backlog is read makes sure it is not
                // still being decoded when the clock starts.
                let schedule = try await barrier.arrive {
                    _ = try await delegator.call("health")
                    _ = try await worker.call("health")
                }
                return try await withThrowingTaskGroup(of: (isDelegator: Bool, tally: Tally).self) { group in
                    group.addTask {
                        (false, try await workerLoop(worker, schedule: schedule))
                    }
                    group.addTask {
                        let tally = try await delegatorLoop(delegator, workerId: workerId, schedule: schedule)
                        try await barrier.finished()
                        return (true, tally)
                    }
                    var tallies: [Tally] = []
                    var delegatorDone = false
                    while let finished = try await group.next() {
                        tallies.append(finished.tally)
                        if finished.isDelegator {
                            delegatorDone = true
                            group.cancelAll()
                        }
                    }
                    guard delegatorDone else {
                        throw BenchError.protocolViolation("the delegator of pair \(index) ended without a result")
                    }
                    return (Tally.merged(tallies), schedule)
                }
            }
        }
    }

    /// Accepts and completes every offer pushed to the worker, until cancelled. Its tally has
    /// only steps (the accept and complete calls), no operations.
    static func workerLoop(_ worker: GatewayConnection, schedule: Schedule) async throws -> Tally {
        var tally = Tally()
        for await event in worker.events {
            tally.events[event.event, default: 0] += 1
            guard event.event == MeshGatewayEvent.delivery, let delivery = event.payload,
                delivery["kind"]?.stringValue == "task_offer", let taskId = delivery["taskId"]?.stringValue
            else { continue }
            do {
                let offeredNs = MonotonicClock.nowNs()
                try await worker.call("mesh.accept", params: ["taskId": .string(taskId)])
                let acceptedNs = MonotonicClock.nowNs()
                try await worker.call("mesh.complete", params: ["taskId": .string(taskId), "result": ["ok": true]])
                let completedNs = MonotonicClock.nowNs()
                tally.recordStep("accept", startNs: offeredNs, endNs: acceptedNs, operationStartNs: offeredNs, schedule: schedule)
                tally.recordStep("complete", startNs: acceptedNs, endNs: completedNs, operationStartNs: offeredNs, schedule: schedule)
            } catch {
                if Task.isCancelled { return tally }
                // An offer handed out again after its lease, already answered: not ours to redo.
                if case GatewayClientError.requestFailed(_, let shape) = error, shape.detailCode == "illegal_transition" { continue }
                throw error
            }
        }
        return tally
    }

    /// Round trips back to back until the deadline.
    private static func delegatorLoop(_ delegator: GatewayConnection, workerId: String, schedule: Schedule) async throws -> Tally {
        var tally = Tally()
        var events = delegator.events.makeAsyncIterator()
        var sequence = 0
        while !schedule.isOver {
            sequence += 1
            let times = try await roundTrip(delegator, events: &events, workerId: workerId, sequence: sequence, tally: &tally)
            tally.recordStep("delegate", startNs: times.startNs, endNs: times.delegatedNs, operationStartNs: times.startNs, schedule: schedule)
            tally.recordStep("until-result", startNs: times.delegatedNs, endNs: times.resultNs, operationStartNs: times.startNs, schedule: schedule)
            tally.recordStep("ack", startNs: times.resultNs, endNs: times.endNs, operationStartNs: times.startNs, schedule: schedule)
            tally.record(startNs: times.startNs, endNs: times.endNs, schedule: schedule)
        }
        return tally
    }

    struct RoundTripTimes {
        var startNs: UInt64
        var delegatedNs: UInt64
        var resultNs: UInt64
        var endNs: UInt64
    }

    /// One durable round trip: `mesh.delegate` to the worker → its `task_result` delivery is
    /// pushed here → `mesh.ack`. Counts the events read in `tally.events`.
    static func roundTrip(
        _ delegator: GatewayConnection, events: inout AsyncStream<EventFrame>.Iterator, workerId: String, sequence: Int,
        tally: inout Tally
    ) async throws -> RoundTripTimes {
        let startNs = MonotonicClock.nowNs()
        let task = try await delegator.call(
            "mesh.delegate", params: ["to": .string(workerId), "type": "bench.echo", "context": ["n": .int(sequence)]]
        )
        let delegatedNs = MonotonicClock.nowNs()
        guard let taskId = task["taskId"]?.stringValue else {
            throw BenchError.protocolViolation("mesh.delegate answered without taskId: \(task)")
        }
        var deliveryIds: [String] = []
        while true {
            guard let event = await events.next() else {
                throw GatewayClientError.closed(code: nil, reason: "connection closed while waiting for task \(taskId)")
            }
            tally.events[event.event, default: 0] += 1
            guard event.event == MeshGatewayEvent.delivery, let delivery = event.payload,
                delivery["kind"]?.stringValue == "task_result", let deliveryId = delivery["deliveryId"]?.stringValue
            else { continue }
            // Anything else (a result handed out again) is acknowledged along with ours.
            deliveryIds.append(deliveryId)
            if delivery["taskId"]?.stringValue == taskId { break }
        }
        let resultNs = MonotonicClock.nowNs()
        let acked = try await delegator.call("mesh.ack", params: ["deliveryIds": .array(deliveryIds.map { .string($0) })])
        let endNs = MonotonicClock.nowNs()
        guard (acked["acked"]?.intValue ?? 0) >= 1 else {
            throw BenchError.protocolViolation("mesh.ack of \(deliveryIds) answered \(acked)")
        }
        return RoundTripTimes(startNs: startNs, delegatedNs: delegatedNs, resultNs: resultNs, endNs: endNs)
    }
}

/// A non-durable baseline: one method (default `health`) called back to back on N connections.
enum RPCLoad {
    static func run(_ settings: LoadSettings, identity: BenchIdentity, method: String, params: JSONValue?) async throws -> RunResult {
        let setupStartNs = MonotonicClock.nowNs()
        let barrier = StartBarrier(parties: settings.concurrency, warmup: settings.warmup, duration: settings.duration)
        let logger = Logger(label: "clawgate-bench")
        let options = identity.options()
        let gate = SetupGate(limit: settings.setupParallelism)
        let outcomes = try await barrier.runParties(settings.concurrency) { _ in
            let ticket = await gate.enter()
            do {
                return try await GatewayClient.withConnection(options, logger: logger) { connection in
                    try await connection.call(method, params: params)
                    await ticket.release()
                    let schedule = try await barrier.arrive { try await connection.call(method, params: params) }
                    var tally = Tally()
                    while !schedule.isOver {
                        let startNs = MonotonicClock.nowNs()
                        try await connection.call(method, params: params)
                        tally.record(startNs: startNs, endNs: MonotonicClock.nowNs(), schedule: schedule)
                    }
                    try await barrier.finished()
                    return (tally, schedule)
                }
            } catch {
                await ticket.release()
                throw error
            }
        }
        guard let schedule = outcomes.first?.1 else { throw BenchError.setup("no connections ran") }
        let setupSeconds = Double(schedule.startNs - setupStartNs) / 1e9
        return RunResult(
            scenario: "rpc", transport: "ws \(method)", concurrency: settings.concurrency,
            unit: settings.concurrency == 1 ? "connection" : "connections", operation: "calls", rateUnit: "calls/s",
            tally: Tally.merged(outcomes.map(\.0)), schedule: schedule,
            extra: ["setupSeconds": .double((setupSeconds * 1000).rounded() / 1000)]
        )
    }
}
