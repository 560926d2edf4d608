import AsyncHTTPClient
import ClawgateProtocol
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Durable delegation round trips over the ClawLink HTTP API (`Authorization: Bearer`).
///
/// Each pair (two agents registered with `POST /register`) runs, back to back:
/// `POST /delegate` → worker `GET /poll/{worker}` until the `task_delegation` is there →
/// `POST /respond` → delegator `GET /poll/{delegator}` until the `task_response` is there.
/// ClawLink has no explicit acknowledgement: the delegator's next poll acknowledges what the
/// previous one returned, so every timed round trip after the first also carries the
/// acknowledgement of the previous result (a final untimed poll acknowledges the last one).
enum MeshHTTPLoad {
    struct ClawLink: Sendable {
        let http: HTTPClient
        let base: String
        let authorization: String?

        func send(_ method: HTTPMethod, _ path: String, _ body: JSONValue? = nil) async throws -> JSONValue {
            var request = HTTPClientRequest(url: base + path)
            request.method = method
            if let authorization { request.headers.add(name: "Authorization", value: authorization) }
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(data: try JSONCoding.encode(body)))
            }
            let response = try await http.execute(request, timeout: .seconds(30))
            let collected = try await response.body.collect(upTo: 16 << 20)
            guard response.status == .ok else {
                throw BenchError.http(path: path, status: Int(response.status.code), body: String(buffer: collected))
            }
            return try JSONCoding.decode(JSONValue.self, from: Data(buffer: collected))
        }

        /// Polls until a message of `type` for `messageId` is handed out.
        func pollUntil(_ agentId: String, type: String, messageId: String) async throws {
            var emptyPolls = 0
            while true {
                let answer = try await send(.GET, "/poll/\(agentId)")
                let messages = answer["messages"]?.arrayValue ?? []
                if messages.contains(where: { $0["type"]?.stringValue == type && $0["message_id"]?.stringValue == messageId }) {
                    return
                }
                emptyPolls += 1
                if emptyPolls > 100_000 {
                    throw BenchError.protocolViolation("\(type) \(messageId) never reached \(agentId)")
                }
                try Task.checkCancellation()
            }
        }
    }

    static func run(_ settings: LoadSettings, target: BenchTarget) async throws -> RunResult {
        var configuration = HTTPClient.Configuration()
        // One kept-alive connection per pair (each pair has one request in flight at a time).
        configuration.connectionPool = .init(
            idleTimeout: .seconds(120), concurrentHTTP1ConnectionsPerHostSoftLimit: Swift.max(8, settings.concurrency)
        )
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(30))
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let client = ClawLink(http: http, base: target.httpBase, authorization: target.token.map { "Bearer \($0)" })
        let result: Result<RunResult, any Error>
        do {
            result = .success(try await run(settings, client: client))
        } catch {
            result = .failure(error)
        }
        try? await http.shutdown()
        return try result.get()
    }

    private static func run(_ settings: LoadSettings, client: ClawLink) async throws -> RunResult {
        let runId = shortRunId()
        let setupStartNs = MonotonicClock.nowNs()
        let barrier = StartBarrier(parties: settings.concurrency, warmup: settings.warmup, duration: settings.duration)
        let outcomes = try await barrier.runParties(settings.concurrency) { index in
            try await pair(index, runId: runId, client: client, barrier: barrier)
        }
        guard let schedule = outcomes.first?.1 else { throw BenchError.setup("no pairs ran") }
        let setupSeconds = Double(schedule.startNs - setupStartNs) / 1e9
        return RunResult(
            scenario: "mesh", transport: "http", concurrency: settings.concurrency, unit: settings.concurrency == 1 ? "pair" : "pairs",
            operation: "round trips", rateUnit: "rt/s", tally: Tally.merged(outcomes.map(\.0)), schedule: schedule,
            extra: ["namespaces": "shared (ClawLink: default)", "setupSeconds": .double((setupSeconds * 1000).rounded() / 1000)],
            stepOrder: ["delegate", "worker-poll", "respond", "delegator-poll"]
        )
    }

    private static func pair(_ index: Int, runId: String, client: ClawLink, barrier: StartBarrier) async throws -> (Tally, Schedule) {
        let delegatorId = "bench-\(runId)-hd\(index)"
        let workerId = "bench-\(runId)-hw\(index)"
        for (agentId, name) in [(delegatorId, "bench delegator \(index)"), (workerId, "bench worker \(index)")] {
            let registered = try await client.send(
                .POST, "/register", ["agent_id": .string(agentId), "name": .string(name), "capabilities": ["bench.echo"]]
            )
            guard registered["status"]?.stringValue == "registered" else {
                throw BenchError.protocolViolation("/register answered \(registered)")
            }
        }
        let schedule = try await barrier.arrive {}
        var tally = Tally()
        var sequence = 0
        while !schedule.isOver {
            sequence += 1
            let startNs = MonotonicClock.nowNs()
            let delegated = try await client.send(
                .POST, "/delegate",
                [
                    "from_agent": .string(delegatorId), "to_agent": .string(workerId), "task": "bench.echo",
                    "context": ["n": .int(sequence)],
                ]
            )
            let delegatedNs = MonotonicClock.nowNs()
            guard let taskId = delegated["message_id"]?.stringValue else {
                throw BenchError.protocolViolation("/delegate answered \(delegated)")
            }
            try await client.pollUntil(workerId, type: "task_delegation", messageId: taskId)
            let offeredNs = MonotonicClock.nowNs()
            let responded = try await client.send(
                .POST, "/respond",
                ["from_agent": .string(workerId), "to_agent": .string(delegatorId), "message_id": .string(taskId), "result": "ok"]
            )
            guard responded["status"]?.stringValue == "response_sent" else {
                throw BenchError.protocolViolation("/respond answered \(responded)")
            }
            let respondedNs = MonotonicClock.nowNs()
            try await client.pollUntil(delegatorId, type: "task_response", messageId: taskId)
            let endNs = MonotonicClock.nowNs()
            tally.record(startNs: startNs, endNs: endNs, schedule: schedule)
            tally.recordStep("delegate", startNs: startNs, endNs: delegatedNs, operationStartNs: startNs, schedule: schedule)
            tally.recordStep("worker-poll", startNs: delegatedNs, endNs: offeredNs, operationStartNs: startNs, schedule: schedule)
            tally.recordStep("respond", startNs: offeredNs, endNs: respondedNs, operationStartNs: startNs, schedule: schedule)
            tally.recordStep("delegator-poll", startNs: respondedNs, endNs: endNs, operationStartNs: startNs, schedule: schedule)
        }
        try await barrier.finished()
        // Acknowledge the last hand-outs (not timed).
        _ = try await client.send(.GET, "/poll/\(delegatorId)")
        _ = try await client.send(.GET, "/poll/\(workerId)")
        return (tally, schedule)
    }
}
