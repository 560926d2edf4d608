import ClawgateClient
import ClawgateGateway
import ClawgateProtocol
import Foundation
import Testing

/// Every lifecycle path of a task, driven over the gateway socket with short leases and a fast
/// sweep (the mesh domain tests cover the same paths with a hand-moved clock).
@Suite("Mesh lifecycle over the gateway socket")
struct MeshLifecycleRPCTests {
    static func fastMesh(_ config: inout GatewayConfig, _: String) {
        config.mesh.settings.leaseMs = 300
        config.mesh.settings.maxDeliveryAttempts = 2
        config.mesh.sweepIntervalMs = 50
    }

    /// Registers `id` without taking pushes (the test polls explicitly).
    static func agent(_ conn: GatewayConnection, _ id: String, capabilities: [String] = []) async throws {
        var params = MeshRegisterParams(agentId: id, capabilities: capabilities)
        params.subscribe = false
        _ = try await conn.call("mesh.register", params, as: JSONValue.self)
    }

    static func offers(_ conn: GatewayConnection) async throws -> [JSONValue] {
        (try await conn.call("mesh.poll")["deliveries"]?.arrayValue ?? []).filter { $0["kind"] == "task_offer" }
    }

    static func state(_ conn: GatewayConnection, _ taskId: String) async throws -> String? {
        try await conn.call("mesh.tasks.get", params: ["taskId": .string(taskId)])["state"]?.stringValue
    }

    /// Polls `condition` until it holds (the sweep runs every 50 ms), failing after 5 s.
    static func eventually(_ what: String, _ condition: @escaping @Sendable () async throws -> Bool) async throws {
        try await withDeadline(.seconds(5), what) {
            while try await !condition() { try await Task.sleep(for: .milliseconds(50)) }
        }
    }

    @Test func rejectRerouteCancelDeadlineLeaseDeadLetterAndIdempotency() async throws {
        try await withGateway(Self.fastMesh) { gw in
            let options = MeshRPCTests.agentOptions(gw)
            try await connect(options) { boss in
                try await Self.agent(boss, "boss")
                try await connect(options) { a in
                    try await Self.agent(a, "a", capabilities: ["code"])
                    try await connect(options) { b in
                        try await Self.agent(b, "b", capabilities: ["code"])

                        // Reject + re-route: the other matching agent gets the offer.
                        let routed = try await boss.call(
                            "mesh.delegate", params: ["requirements": ["capabilities": ["code"]], "type": "fix"]
                        )
                        let taskId = try #require(routed["taskId"]?.stringValue)
                        let first = try #require(routed["assignee"]?.stringValue)
                        let (firstConn, secondConn, second) = first == "a" ? (a, b, "b") : (b, a, "a")
                        _ = try await firstConn.call("mesh.reject", params: ["taskId": .string(taskId), "reason": "busy"])
                        let offered = try await Self.offers(secondConn)
                        #expect(offered.map { $0["taskId"] } == [.string(taskId)])
                        let rerouted = try await boss.call("mesh.tasks.get", params: ["taskId": .string(taskId)])
                        #expect(rerouted["assignee"] == .string(second))
                        #expect(rerouted["rejectedBy"] == [.string(first)])

                        // Cancel by the delegator: the accepted assignee is told.
                        _ = try await secondConn.call("mesh.accept", params: ["taskId": .string(taskId)])
                        #expect(try await boss.call("mesh.cancel", params: ["taskId": .string(taskId)])["state"] == "canceled")
                        let notices = try await secondConn.call("mesh.poll")["deliveries"]?.arrayValue ?? []
                        #expect(notices.contains { $0["kind"] == "task_canceled" && $0["taskId"] == .string(taskId) })
                        let late = try await secondConn.request("mesh.complete", params: ["taskId": .string(taskId)])
                        #expect(late.error?.detailCode == "illegal_transition")

                        // Deadline expiry (the sweep expires it; the delegator gets the outcome).
                        let deadline = Int(Date().timeIntervalSince1970 * 1000) + 200
                        let timed = try await boss.call("mesh.delegate", params: ["to": "a", "type": "slow", "deadline": .int(deadline)])
                        let timedId = try #require(timed["taskId"]?.stringValue)
                        try await Self.eventually("deadline expiry") { try await Self.state(boss, timedId) == "expired" }

                        // Lease expiry + redelivery, then dead-lettering after maxDeliveryAttempts (2).
                        let ignored = try await boss.call("mesh.delegate", params: ["to": "b", "type": "ignored"])
                        let ignoredId = try #require(ignored["taskId"]?.stringValue)
                        #expect(try await Self.offers(b).map { $0["taskId"] } == [.string(ignoredId)])
                        #expect(try await Self.offers(b).isEmpty)  // leased: not handed out twice at once
                        try await Self.eventually("redelivery after the lease") {
                            try await Self.offers(b).contains { $0["taskId"] == .string(ignoredId) && $0["attempts"] == 2 }
                        }
                        try await Self.eventually("dead-lettering") { try await Self.state(boss, ignoredId) == "dead_lettered" }
                        let outcomes = try await boss.call("mesh.poll")["deliveries"]?.arrayValue ?? []
                        let states = outcomes.compactMap { $0["payload"]?["state"]?.stringValue }
                        #expect(states.contains("expired"))
                        #expect(states.contains("dead_lettered"))

                        // Idempotent delegate.
                        let once = try await boss.call("mesh.delegate", params: ["to": "a", "type": "x", "idempotencyKey": "k-1"])
                        let twice = try await boss.call("mesh.delegate", params: ["to": "a", "type": "x", "idempotencyKey": "k-1"])
                        #expect(once["taskId"] == twice["taskId"])
                    }
                }
            }
        }
    }

    @Test func aClientThatReconnectsResumesTheEventLogWithoutGaps() async throws {
        try await withGateway { gw in
            let options = MeshRPCTests.agentOptions(gw)
            let credential = try await connect(options) { watcher in
                try await MeshRPCTests.register(watcher, "watcher")
            }
            // Read the log up to now, then go away.
            let cursor = try await connect(options) { watcher in
                var params = MeshRegisterParams(agentId: "watcher", credential: credential)
                params.subscribe = false
                _ = try await watcher.call("mesh.register", params, as: JSONValue.self)
                return try #require(try await watcher.call("mesh.events.since", params: ["seq": 0])["lastSeq"]?.intValue)
            }
            // Things happen while the watcher is away.
            try await connect(options) { boss in
                try await Self.agent(boss, "boss")
                try await Self.agent(boss, "boss")  // no change: nothing logged
                _ = try await boss.call("mesh.broadcast", params: ["content": "while you were out"])
                _ = try await boss.call("mesh.delegate", params: ["to": "watcher", "type": "x"])
            }
            // Back: everything after the cursor, in order, nothing before it.
            try await connect(options) { watcher in
                var params = MeshRegisterParams(agentId: "watcher", credential: credential)
                params.subscribe = false
                _ = try await watcher.call("mesh.register", params, as: JSONValue.self)
                let missed = try await watcher.call("mesh.events.since", params: ["seq": .int(cursor)])
                let entries = missed["events"]?.arrayValue ?? []
                var types: [String] = []
                var seqs: [Int] = []
                for entry in entries {
                    if let type = entry["type"]?.stringValue { types.append(type) }
                    if let seq = entry["seq"]?.intValue { seqs.append(seq) }
                }
                #expect(types == ["agent_registered", "knowledge_broadcast", "task_created", "task_offered"])
                #expect(seqs == Array((cursor + 1)...(cursor + 4)))
            }
        }
    }
}
