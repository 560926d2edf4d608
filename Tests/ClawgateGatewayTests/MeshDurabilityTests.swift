import ClawgateClient
import ClawgateProtocol
import Foundation
import Synchronization
import Testing

/// The mesh's durability promise against a crash of the real `clawgate` process: whatever the
/// gateway acknowledged (a task created, accepted, completed) survives `kill -9`, offers and
/// results are still held for their recipients after a restart, and idempotency keys still
/// dedupe retries.
@Suite("Mesh durability (process)")
struct MeshDurabilityTests {
    static let taskCount = 200
    /// The gateway is killed right after this many delegations were acknowledged.
    static let killAfter = 100
    /// Parallel delegating connections, so several calls are in flight when the kill lands.
    static let lanes = 4
    /// Tasks the worker accepts and completes before the kill (their results stay un-acked).
    static let completedBeforeKill = 10

    static func key(_ index: Int) -> String { "durability-\(index)" }

    /// An agent process: a trusted backend on loopback with the shared token keeps read/write.
    static func agentOptions(_ url: String, token: String) -> GatewayClientOptions {
        GatewayClientOptions(
            url: url, token: token, client: ClientInfo(id: "gateway-client", version: "1", platform: "linux", mode: "backend"),
            scopes: [OperatorScope.read, OperatorScope.write], connectTimeout: .seconds(5), requestTimeout: .seconds(5)
        )
    }

    /// Registers (or, with `credential`, re-registers) an agent; returns the credential of a new one.
    static func register(_ conn: GatewayConnection, _ agentId: String, credential: String? = nil) async throws -> String? {
        let result = try await conn.call(
            "mesh.register", MeshRegisterParams(agentId: agentId, credential: credential), as: JSONValue.self
        )
        #expect(result["agent"]?["agentId"]?.stringValue == agentId)
        return result["credential"]?.stringValue
    }

    struct Ack: Sendable {
        var key: String
        var taskId: String
    }

    /// What the agents saw before the crash.
    final class Ledger: Sendable {
        struct State {
            var sent = 0
            var inFlight = 0
            var acked: [Ack] = []
            /// Keys whose `mesh.delegate` got no ok answer (in flight at the kill, or sent after it).
            var unanswered: [String: String] = [:]
            var inFlightAtKill = 0
            var killedAt: ContinuousClock.Instant?
            var completed: [String] = []
            var workerDone = false
            var killed = false
        }

        let state = Mutex(State())

        var killed: Bool { state.withLock { $0.killed } }

        /// Lanes hold back just before the kill point until the worker has done its part, so the
        /// kill always lands while delegations are still streaming.
        var mustWait: Bool {
            state.withLock { !$0.killed && !$0.workerDone && $0.acked.count >= MeshDurabilityTests.killAfter - 10 }
        }

        func sending() {
            state.withLock {
                $0.sent += 1
                $0.inFlight += 1
            }
        }

        /// Records an acknowledged delegation; true exactly once: the caller must kill the gateway now.
        func acknowledged(_ ack: Ack) -> Bool {
            state.withLock {
                $0.inFlight -= 1
                $0.acked.append(ack)
                guard !$0.killed, $0.workerDone, $0.acked.count >= MeshDurabilityTests.killAfter else { return false }
                $0.killed = true
                $0.killedAt = .now
                $0.inFlightAtKill = $0.inFlight
                return true
            }
        }

        /// Records a delegation without an ok answer; false when that happened before the kill.
        func unanswered(_ key: String, _ why: String) -> Bool {
            state.withLock {
                $0.inFlight -= 1
                $0.unanswered[key] = why
                return $0.killed
            }
        }

        func firstAcked(_ count: Int) -> [Ack]? {
            state.withLock { $0.acked.count >= count ? Array($0.acked.prefix(count)) : nil }
        }

        func workerFinished(_ completed: [String]) {
            state.withLock {
                $0.completed = completed
                $0.workerDone = true
            }
        }
    }

    /// What the agents saw after the restart.
    final class Recovery: Sendable {
        struct State {
            var offersReceived: Set<String> = []
            /// How the first copy of each offer / result arrived.
            var offersPushed = 0
            var resultsPushed = 0
            var duplicateOffers = 0
            var completed: Set<String> = []
            /// Distinct result delivery ids per task.
            var results: [String: Set<String>] = [:]
            var ackedDeliveries: Set<String> = []
            var duplicateResults = 0
            var problems: [String] = []
        }

        let state = Mutex(State())

        func problem(_ text: String) { state.withLock { $0.problems.append(text) } }
    }

    @Test("nothing acknowledged is lost across kill -9")
    func nothingAcknowledgedIsLostAcrossKill9() async throws {
        let clock = ContinuousClock()
        let began = clock.now
        let dir = try CLIProcessTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Short leases and a fast sweep so held deliveries come back within a second. Plenty of
        // delivery attempts: this test is about loss, not dead-lettering of slow answers.
        try """
        // written by MeshDurabilityTests
        { mesh: { leaseMs: 1000, sweepIntervalMs: 100, maxDeliveryAttempts: 1000 } }
        """.write(toFile: dir + "/clawgate.json", atomically: true, encoding: .utf8)
        let token = "durability-" + UUID().uuidString + UUID().uuidString
        let environment = CLIProcessTests.environment(stateDir: dir, extra: ["OPENCLAW_GATEWAY_TOKEN": token])

        // 1. The first gateway process and the two agents.
        let first = try await CLIProcessTests.RunningGateway(environment: environment)
        let firstPid = first.process.processIdentifier
        defer { if first.process.isRunning { kill(firstPid, SIGKILL) } }
        let before = Self.agentOptions(first.url, token: token)
        let bossCredential = try #require(try await connect(before) { try await Self.register($0, "boss") })
        let workerCredential = try #require(try await connect(before) { try await Self.register($0, "worker") })

        // 2 + 3. Delegations in parallel lanes; the worker completes the first few; kill -9 mid-stream.
        let ledger = Ledger()
        try await withDeadline(.seconds(20), "delegations until the kill") {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await Self.workerBeforeKill(before, credential: workerCredential, ledger: ledger)
                }
                for lane in 0..<Self.lanes {
                    group.addTask {
                        try await Self.delegationLane(lane, before, credential: bossCredential, ledger: ledger, pid: firstPid)
                    }
                }
                try await group.waitForAll()
            }
        }
        try await withDeadline(.seconds(5), "the killed gateway exits") {
            while first.process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(first.process.terminationReason == .uncaughtSignal)
        #expect(first.process.terminationStatus == SIGKILL)

        let seen = ledger.state.withLock { $0 }
        let killedAt = seen.killedAt ?? clock.now
        let acked = seen.acked
        let ackedIds = Set(acked.map(\.taskId))
        let completedBefore = seen.completed
        #expect(seen.killed)
        #expect(ackedIds.count == acked.count, "a task id was acknowledged for two keys")
        #expect(acked.count >= Self.killAfter)
        #expect(acked.count < Self.taskCount, "the kill landed after every delegation was answered")
        #expect(!seen.unanswered.isEmpty, "no delegation was cut off by the kill")
        #expect(completedBefore.count == Self.completedBeforeKill)

        // 4. Restart on the same state directory (a new port).
        let second = try await CLIProcessTests.RunningGateway(environment: environment)
        let secondPid = second.process.processIdentifier
        defer { if second.process.isRunning { kill(secondPid, SIGKILL) } }
        let restarted = clock.now
        let after = Self.agentOptions(second.url, token: token)
        let recovery = Recovery()

        // Should recovery stop (a deadline, a failed call), say what had arrived by then, to tell
        // a lost delivery from a stuck call.
        var recovered = false
        defer {
            if !recovered {
                let got = recovery.state.withLock { $0 }
                let message: String =
                    "recovery stopped: \(got.offersReceived.count) offers received, \(got.completed.count) completed, results for "
                    + "\(got.results.count) tasks, \(got.ackedDeliveries.count) acked; problems: \(got.problems)"
                Issue.record(Comment(rawValue: message))
            }
        }
        let summary = try await connect(after, timeout: .seconds(30)) { boss in
            #expect(try await Self.register(boss, "boss", credential: bossCredential) == nil)

            // Every acknowledged task exists, in the state it was acknowledged in.
            var lost: [String] = []
            for ack in acked {
                let response = try await boss.request("mesh.tasks.get", params: ["taskId": .string(ack.taskId)])
                guard response.ok, let task = response.payload else {
                    lost.append(ack.taskId)
                    continue
                }
                #expect(task["idempotencyKey"]?.stringValue == ack.key)
                #expect(task["assignee"] == "worker")
                let expected = completedBefore.contains(ack.taskId) ? "completed" : "offered"
                #expect(task["state"]?.stringValue == expected, "task \(ack.taskId) (\(ack.key))")
            }
            #expect(lost.isEmpty, "acknowledged tasks lost across kill -9: \(lost)")

            let existing = try await Self.tasks(boss)
            let existingIds = Set(existing.keys)
            #expect(ackedIds.isSubset(of: existingIds))
            let keysAfterCrash = existing.values.compactMap { $0["idempotencyKey"]?.stringValue }
            #expect(Set(keysAfterCrash).count == keysAfterCrash.count, "two tasks share an idempotency key")
            let unansweredSurvivors = seen.unanswered.keys.filter { keysAfterCrash.contains($0) }.count

            // 5. Idempotency survives the crash: a used key names the same task, completed or not;
            // retrying the calls the kill cut off yields exactly one task per key.
            for ack in [acked[0], acked[acked.count - 1]] {
                let again = try await boss.call(
                    "mesh.delegate", params: ["to": "worker", "type": "durability", "idempotencyKey": .string(ack.key)]
                )
                #expect(again["taskId"]?.stringValue == ack.taskId)
            }
            #expect(try await boss.call("mesh.tasks.get", params: ["taskId": .string(acked[0].taskId)])["state"] == "completed")
            for key in seen.unanswered.keys.sorted() {
                let retried = try await boss.call(
                    "mesh.delegate", params: ["to": "worker", "type": "durability", "idempotencyKey": .string(key)]
                )
                if let survivor = existing.first(where: { $0.value["idempotencyKey"]?.stringValue == key }) {
                    #expect(retried["taskId"]?.stringValue == survivor.key, "retry of \(key) created a second task")
                }
            }
            let all = try await Self.tasks(boss)
            let allIds = Set(all.keys)
            #expect(all.count == seen.sent, "one task per idempotency key sent")
            let toComplete = allIds.subtracting(completedBefore)

            // The held offers reach the worker (pushed on register and by the sweep, or polled);
            // it accepts and completes each. The held results reach the boss, who acks each.
            let recoveryBegan = clock.now
            let secondComplete = try await connect(after, timeout: .seconds(30)) { worker in
                #expect(try await Self.register(worker, "worker", credential: workerCredential) == nil)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await Self.drain(worker, done: { recovery.state.withLock { toComplete.isSubset(of: $0.completed) } }) {
                            delivery, pushed in
                            try await Self.workerHandle(
                                delivery, pushed: pushed, worker, expected: toComplete, completedBefore: Set(completedBefore), recovery: recovery
                            )
                        }
                    }
                    group.addTask {
                        try await Self.drain(boss, done: { recovery.state.withLock { allIds.isSubset(of: Set($0.results.keys)) } }) {
                            delivery, pushed in
                            try await Self.bossHandle(delivery, pushed: pushed, boss, all: all, recovery: recovery)
                        }
                    }
                    // `next()`, not `waitForAll()`: the first failure (a call that failed, a drain
                    // that ended early) ends recovery at once, instead of waiting for the other
                    // agent, who waits for what the failed one no longer sends, until the deadline.
                    while try await group.next() != nil {}
                }
                // No task completes twice.
                let twice = try await worker.request(
                    "mesh.complete", params: ["taskId": .string(completedBefore[0]), "result": ["again": true]]
                )
                #expect(twice.ok == false)
                #expect(twice.error?.detailCode == "illegal_transition")
                // Nothing acked or answered comes back once its lease would have run out.
                try await Task.sleep(for: .milliseconds(1300))
                #expect(try await worker.call("mesh.poll", params: ["limit": 1000])["count"] == 0)
                #expect(try await boss.call("mesh.poll", params: ["limit": 1000])["count"] == 0)
                return twice.error?.detailCode ?? "accepted"
            }
            let recoveryTook = clock.now - recoveryBegan

            let final = try await Self.tasks(boss)
            #expect(final.count == all.count)
            let notCompleted = final.filter { $0.value["state"] != "completed" }.map(\.key)
            #expect(notCompleted.isEmpty, "tasks not completed: \(notCompleted)")

            let got = recovery.state.withLock { $0 }
            #expect(got.problems.isEmpty, "\(got.problems)")
            #expect(got.offersReceived == toComplete, "every held offer reached the worker")
            #expect(Set(got.results.keys) == allIds)
            let resultsForAcked = Set(got.results.keys).intersection(ackedIds).count
            #expect(resultsForAcked == acked.count)
            let multiple = got.results.filter { $0.value.count != 1 }.map(\.key)
            #expect(multiple.isEmpty, "tasks with more than one result delivery: \(multiple)")
            return
                "mesh durability: sent \(seen.sent), acknowledged \(acked.count) (\(seen.inFlightAtKill) in flight at the kill, "
                + "\(seen.unanswered.count) unanswered, \(unansweredSurvivors) of those committed); after restart \(existing.count) "
                + "tasks existed (\(acked.count - lost.count)/\(acked.count) acknowledged, \(completedBefore.count) still completed); "
                + "offers redelivered \(got.offersReceived.count) (\(got.offersPushed) pushed, +\(got.duplicateOffers) duplicate), "
                + "results received for \(got.results.count) tasks (\(resultsForAcked) acknowledged, \(got.resultsPushed) pushed, "
                + "+\(got.duplicateResults) duplicate); second complete: "
                + "\(secondComplete); timings: start to kill \(Self.ms(killedAt - began)), kill to listening again \(Self.ms(restarted - killedAt)), "
                + "recovery \(Self.ms(recoveryTook))"
        }
        recovered = true

        // 6. An orderly stop at the end.
        #expect(await second.stop() == 0)
        print(summary + ", total \(Self.ms(clock.now - began))")
    }

    // MARK: before the kill

    /// One delegating connection: delegates its share of the keys until a call fails (the kill).
    static func delegationLane(
        _ lane: Int, _ options: GatewayClientOptions, credential: String, ledger: Ledger, pid: Int32
    ) async throws {
        do {
            try await connect(options, timeout: .seconds(20)) { boss in
                _ = try await Self.register(boss, "boss", credential: credential)
                for index in stride(from: lane, to: Self.taskCount, by: Self.lanes) {
                    while ledger.mustWait { try await Task.sleep(for: .milliseconds(1)) }
                    let key = Self.key(index)
                    ledger.sending()
                    let response: ResponseFrame
                    do {
                        response = try await boss.request(
                            "mesh.delegate",
                            params: [
                                "to": "worker", "type": "durability", "context": ["index": .int(index)],
                                "idempotencyKey": .string(key),
                            ]
                        )
                    } catch {
                        if !ledger.unanswered(key, "\(error)") { Issue.record("delegation \(key) failed before the kill: \(error)") }
                        return
                    }
                    guard response.ok, let taskId = response.payload?["taskId"]?.stringValue else {
                        let why = "\(response.error.map { "\($0.code) \($0.message)" } ?? "no task id")"
                        if !ledger.unanswered(key, why) { Issue.record("delegation \(key) refused before the kill: \(why)") }
                        return
                    }
                    #expect(response.payload?["state"] == "offered")
                    if ledger.acknowledged(Ack(key: key, taskId: taskId)) {
                        kill(pid, SIGKILL)
                    }
                }
            }
        } catch where ledger.killed {
            // The socket died with the gateway.
        }
    }

    /// The worker, connected while delegations stream in: completes the first acknowledged tasks
    /// (the boss leaves those results un-acked), then stays until the kill.
    static func workerBeforeKill(_ options: GatewayClientOptions, credential: String, ledger: Ledger) async throws {
        do {
            try await connect(options, timeout: .seconds(20)) { worker in
                _ = try await Self.register(worker, "worker", credential: credential)
                var first: [Ack]?
                while first == nil {
                    first = ledger.firstAcked(Self.completedBeforeKill)
                    if first == nil { try await Task.sleep(for: .milliseconds(1)) }
                }
                var completed: [String] = []
                for ack in first ?? [] {
                    let accepted = try await worker.call("mesh.accept", params: ["taskId": .string(ack.taskId)])
                    #expect(accepted["state"] == "accepted")
                    let done = try await worker.call(
                        "mesh.complete", params: ["taskId": .string(ack.taskId), "result": ["key": .string(ack.key)]]
                    )
                    #expect(done["state"] == "completed")
                    completed.append(ack.taskId)
                }
                ledger.workerFinished(completed)
                while !ledger.killed { try await Task.sleep(for: .milliseconds(5)) }
            }
        } catch where ledger.killed {
        }
    }

    // MARK: after the restart

    /// Every task of the namespace involving the boss, by id.
    static func tasks(_ boss: GatewayConnection) async throws -> [String: JSONValue] {
        let listed = try await boss.call("mesh.tasks.list", params: ["involving": "boss", "limit": 1000])
        var byId: [String: JSONValue] = [:]
        for task in listed["tasks"]?.arrayValue ?? [] {
            if let id = task["taskId"]?.stringValue { byId[id] = task }
        }
        return byId
    }

    /// Feeds an agent's deliveries to `handle` one at a time, pushed (`mesh.delivery`) and polled
    /// (every 250 ms, since a delivery still leased at reconnect is not pushed again), until `done`.
    static func drain(
        _ conn: GatewayConnection, done: @escaping @Sendable () -> Bool,
        _ handle: @escaping @Sendable (_ delivery: JSONValue, _ pushed: Bool) async throws -> Void
    ) async throws {
        if done() { return }
        let (deliveries, continuation) = AsyncStream.makeStream(of: (delivery: JSONValue, pushed: Bool).self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { continuation.finish() }
                for await event in conn.events where event.event == MeshGatewayEvent.delivery {
                    if let payload = event.payload { continuation.yield((payload, true)) }
                }
            }
            group.addTask {
                defer { continuation.finish() }
                while true {
                    try await Task.sleep(for: .milliseconds(250))
                    let polled = try await conn.call("mesh.poll", params: ["limit": 1000])
                    for delivery in polled["deliveries"]?.arrayValue ?? [] { continuation.yield((delivery, false)) }
                }
            }
            for await (delivery, pushed) in deliveries {
                try await handle(delivery, pushed)
                if done() { break }
            }
            group.cancelAll()
            if !done() { throw TestTimeout(what: "deliveries ended before everything arrived") }
        }
    }

    static func workerHandle(
        _ delivery: JSONValue, pushed: Bool, _ worker: GatewayConnection, expected: Set<String>, completedBefore: Set<String>, recovery: Recovery
    ) async throws {
        guard delivery["kind"] == "task_offer", let taskId = delivery["taskId"]?.stringValue else {
            recovery.problem("worker got an unexpected delivery: \(delivery)")
            return
        }
        guard !completedBefore.contains(taskId) else {
            recovery.problem("worker was offered \(taskId) again, completed before the kill")
            return
        }
        guard expected.contains(taskId) else {
            recovery.problem("worker was offered an unknown task \(taskId)")
            return
        }
        let fresh = recovery.state.withLock { state -> Bool in
            if state.offersReceived.insert(taskId).inserted {
                if pushed { state.offersPushed += 1 }
                return true
            }
            state.duplicateOffers += 1  // at least once: an offer may come back before it is answered
            return false
        }
        guard fresh else { return }
        let accepted = try await worker.request("mesh.accept", params: ["taskId": .string(taskId)])
        guard accepted.ok else {
            recovery.problem("accept \(taskId): \(accepted.error.map { "\($0.code) \($0.message)" } ?? "?")")
            return
        }
        let key = delivery["payload"]?["idempotencyKey"] ?? .null
        let done = try await worker.call("mesh.complete", params: ["taskId": .string(taskId), "result": ["key": key]])
        #expect(done["state"] == "completed")
        _ = recovery.state.withLock { $0.completed.insert(taskId) }
    }

    static func bossHandle(
        _ delivery: JSONValue, pushed: Bool, _ boss: GatewayConnection, all: [String: JSONValue], recovery: Recovery
    ) async throws {
        guard delivery["kind"] == "task_result", let taskId = delivery["taskId"]?.stringValue,
            let deliveryId = delivery["deliveryId"]?.stringValue
        else {
            recovery.problem("boss got an unexpected delivery: \(delivery)")
            return
        }
        guard let task = all[taskId] else {
            recovery.problem("boss got a result for an unknown task \(taskId)")
            return
        }
        if delivery["payload"]?["state"] != "completed" || delivery["payload"]?["result"]?["key"] != task["idempotencyKey"] {
            recovery.problem("result of \(taskId) is wrong: \(delivery["payload"] ?? .null)")
        }
        let fresh = recovery.state.withLock { state -> Bool in
            if state.results[taskId] == nil, pushed { state.resultsPushed += 1 }
            state.results[taskId, default: []].insert(deliveryId)
            if state.ackedDeliveries.contains(deliveryId) {
                state.duplicateResults += 1
                return false
            }
            return true
        }
        guard fresh else { return }
        let acked = try await boss.call("mesh.ack", params: ["deliveryIds": [.string(deliveryId)]])
        #expect(acked["acked"] == 1)
        _ = recovery.state.withLock { $0.ackedDeliveries.insert(deliveryId) }
    }

    static func ms(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return "\(seconds * 1000 + attoseconds / 1_000_000_000_000_000) ms"
    }
}
