import ClawgateClient
import ClawgateGateway
import ClawgateProtocol
import Foundation
import Testing

/// The agent mesh over the gateway socket (`mesh.*` methods and events).
@Suite("Mesh over the gateway socket")
struct MeshRPCTests {
    /// An agent process: a trusted backend on loopback keeps its read/write scopes.
    static func agentOptions(_ gw: TestGateway) -> GatewayClientOptions {
        gw.options(clientId: "gateway-client", mode: "backend", scopes: [OperatorScope.read, OperatorScope.write])
    }

    static func register(_ conn: GatewayConnection, _ id: String, namespace: String = "default", capabilities: [String] = [])
        async throws -> String
    {
        let result = try await conn.call(
            "mesh.register", MeshRegisterParams(agentId: id, namespace: namespace, capabilities: capabilities), as: JSONValue.self
        )
        #expect(result["agent"]?["agentId"]?.stringValue == id)
        return try #require(result["credential"]?.stringValue)
    }

    /// Waits for the next event named `name` (skipping ticks and others).
    static func nextEvent(_ conn: GatewayConnection, _ name: String) async throws -> EventFrame {
        try await withDeadline(.seconds(5), "event \(name)") {
            for await event in conn.events where event.event == name { return event }
            throw TestTimeout(what: "connection closed before \(name)")
        }
    }

    @Test func delegationRoundTripWithPushedOffersAndResults() async throws {
        try await withGateway { gw in
            try await connect(Self.agentOptions(gw)) { boss in
                _ = try await Self.register(boss, "boss")
                try await connect(Self.agentOptions(gw)) { worker in
                    _ = try await Self.register(worker, "worker", capabilities: ["summarize"])
                    // Discovery and capability query.
                    let found = try await boss.call("mesh.discover", params: ["capabilities": ["summarize"]])
                    #expect(found["agents"]?.arrayValue?.compactMap { $0["agentId"]?.stringValue } == ["worker"])
                    let who = try await boss.call("mesh.capabilities", params: ["taskType": "summarize"])
                    #expect(who["supported"] == true)

                    let task = try await boss.call(
                        "mesh.delegate",
                        params: ["requirements": ["capabilities": ["summarize"]], "type": "summarize", "context": ["doc": "hello"]]
                    )
                    let taskId = try #require(task["taskId"]?.stringValue)
                    #expect(task["state"] == "offered")
                    // The offer is pushed to the connected worker.
                    let offer = try await Self.nextEvent(worker, MeshGatewayEvent.delivery)
                    #expect(offer.payload?["kind"] == "task_offer")
                    #expect(offer.payload?["payload"]?["context"]?["doc"] == "hello")
                    #expect(try await worker.call("mesh.accept", params: ["taskId": .string(taskId)])["state"] == "accepted")
                    _ = try await worker.call("mesh.update", params: ["taskId": .string(taskId), "percentage": 50, "message": "half"])
                    _ = try await worker.call("mesh.complete", params: ["taskId": .string(taskId), "result": ["summary": "hi"]])
                    // The result is pushed to the delegator, who acknowledges it.
                    let result = try await Self.nextEvent(boss, MeshGatewayEvent.delivery)
                    #expect(result.payload?["kind"] == "task_result")
                    #expect(result.payload?["payload"]?["result"]?["summary"] == "hi")
                    let deliveryId = try #require(result.payload?["deliveryId"]?.stringValue)
                    #expect(try await boss.call("mesh.ack", params: ["deliveryIds": [.string(deliveryId)]])["acked"] == 1)
                    let got = try await boss.call("mesh.tasks.get", params: ["taskId": .string(taskId)])
                    #expect(got["state"] == "completed")
                    // The durable event log has every step, resumable from any seq.
                    let events = try await boss.call("mesh.events.since", params: ["seq": 0])
                    let log = events["events"]?.arrayValue ?? []
                    var types: [String] = []
                    for entry in log { if let type = entry["type"]?.stringValue { types.append(type) } }
                    #expect(types.suffix(5) == ["task_created", "task_offered", "task_accepted", "task_updated", "task_completed"])
                    let lastSeq = try #require(events["lastSeq"]?.intValue)
                    #expect(try await boss.call("mesh.events.since", params: ["seq": .int(lastSeq)])["count"] == 0)
                }
            }
        }
    }

    @Test func deliveriesWaitForAReconnectingAgent() async throws {
        try await withGateway { gw in
            let credential = try await connect(Self.agentOptions(gw)) { worker in
                try await Self.register(worker, "worker")
            }
            let taskId = try await connect(Self.agentOptions(gw)) { boss in
                _ = try await Self.register(boss, "boss")
                return try #require(try await boss.call("mesh.delegate", params: ["to": "worker", "type": "x"])["taskId"]?.stringValue)
            }
            // The worker comes back (same id, its credential): the waiting offer is pushed.
            try await connect(Self.agentOptions(gw)) { worker in
                let again = try await worker.call(
                    "mesh.register", MeshRegisterParams(agentId: "worker", credential: credential), as: JSONValue.self
                )
                #expect(again["credential"] == nil)
                let offer = try await Self.nextEvent(worker, MeshGatewayEvent.delivery)
                #expect(offer.payload?["taskId"] == .string(taskId))
            }
            // Without the credential the id cannot be taken over.
            try await connect(Self.agentOptions(gw)) { impostor in
                let response = try await impostor.request("mesh.register", params: ["agentId": "worker"])
                #expect(response.ok == false)
                #expect(response.error?.code == "FORBIDDEN")
                #expect(response.error?.detailCode == "forbidden")
            }
        }
    }

    @Test func badInputAndIsolation() async throws {
        try await withGateway { gw in
            try await connect(Self.agentOptions(gw)) { conn in
                let unbound = try await conn.request("mesh.delegate", params: ["to": "x", "type": "y"])
                #expect(unbound.error?.message == "this connection acts for no agent yet: call mesh.register first")
                _ = try await Self.register(conn, "a1", namespace: "team-a")
                let missingTarget = try await conn.request("mesh.delegate", params: ["type": "y"])
                #expect(missingTarget.error?.code == "INVALID_REQUEST")
                #expect(missingTarget.error?.detailCode == "invalid_input")
                let unknown = try await conn.request("mesh.delegate", params: ["to": "ghost", "type": "y"])
                #expect(unknown.error?.detailCode == "not_found")
                let badPriority = try await conn.request("mesh.delegate", params: ["to": "ghost", "type": "y", "priority": "asap"])
                #expect(badPriority.error?.message == "priority must be one of low, normal, high, urgent")
                let illegal = try await conn.request("mesh.accept", params: ["taskId": "nope"])
                #expect(illegal.error?.detailCode == "not_found")
                let typo = try await conn.request("mesh.delegate", params: ["too": "x", "type": "y"])
                #expect(typo.error?.message == "invalid mesh.delegate params: unexpected property 'too'")
                // Other namespaces are invisible to agents.
                let foreign = try await conn.request("mesh.discover", params: ["namespace": "team-b"])
                #expect(foreign.error?.code == "FORBIDDEN")
            }
            // A read-only client cannot act in the mesh.
            try await connect(gw.options(scopes: [OperatorScope.read], device: DeviceIdentity())) { reader in
                let denied = try await reader.request("mesh.register", params: ["agentId": "r"])
                #expect(denied.error?.code == "FORBIDDEN")
                #expect(denied.error?.details?["missingScope"] == "operator.write")
            }
        }
    }
}

extension MeshRPCTests {
    @Test func broadcastsFilesAndStateOverTheSocket() async throws {
        try await withGateway { gw in
            try await connect(Self.agentOptions(gw)) { a in
                _ = try await Self.register(a, "a")
                try await connect(Self.agentOptions(gw)) { b in
                    _ = try await Self.register(b, "b")
                    let sent = try await a.call("mesh.broadcast", params: ["content": "hello all", "tags": ["greeting"]])
                    #expect(sent["recipients"] == 1)
                    let pushed = try await Self.nextEvent(b, MeshGatewayEvent.delivery)
                    #expect(pushed.payload?["kind"] == "knowledge_broadcast")
                    #expect(pushed.payload?["payload"]?["content"] == "hello all")

                    let put = try await a.call("mesh.files.put", params: ["key": "notes.md", "content": "draft", "ifVersion": 0])
                    #expect(put["version"] == 1)
                    let notice = try await Self.nextEvent(b, MeshGatewayEvent.delivery)
                    #expect(notice.payload?["kind"] == "file_updated")
                    let conflict = try await b.request("mesh.files.put", params: ["key": "notes.md", "content": "mine", "ifVersion": 0])
                    #expect(conflict.error?.detailCode == "conflict")
                    #expect(try await b.call("mesh.files.get", params: ["key": "notes.md"])["content"] == "draft")
                    #expect(try await b.call("mesh.files.list")["count"] == 1)

                    _ = try await a.call("mesh.state.set", params: ["key": "run", "value": ["tasks": ["t1"]]])
                    let merged = try await b.call("mesh.state.set", params: ["key": "run", "value": ["tasks": ["t2"]], "policy": "merge"])
                    #expect(merged["value"] == ["tasks": ["t1", "t2"]])
                    let rejected = try await a.request("mesh.state.set", params: ["key": "run", "value": [:], "policy": "reject", "ifVersion": 1])
                    #expect(rejected.error?.detailCode == "conflict")
                    let badPolicy = try await a.request("mesh.state.set", params: ["key": "run", "value": [:], "policy": "yolo"])
                    #expect(badPolicy.error?.message == "policy must be one of last-write-wins, merge, reject")
                }
            }
        }
    }
}

extension MeshRPCTests {
    @Test func liveEventPushesAreOptIn() async throws {
        try await withGateway { gw in
            try await connect(Self.agentOptions(gw)) { watcher in
                var params = MeshRegisterParams(agentId: "watcher")
                params.events = true
                _ = try await watcher.call("mesh.register", params, as: JSONValue.self)
                try await connect(Self.agentOptions(gw)) { quiet in
                    _ = try await Self.register(quiet, "quiet")
                    _ = try await quiet.call("mesh.delegate", params: ["to": "watcher", "type": "x"])
                    let types = try await withDeadline(.seconds(5), "task_created event") { () -> [String] in
                        var seen: [String] = []
                        for await event in watcher.events where event.event == MeshGatewayEvent.event {
                            seen.append(event.payload?["type"]?.stringValue ?? "?")
                            if seen.last == "task_created" { break }
                        }
                        return seen
                    }
                    #expect(types == ["agent_registered", "task_created"])
                    // "quiet" never opted in to events: its stream has none.
                    await quiet.close()
                    var sawEvent = false
                    for await pushed in quiet.events where pushed.event == MeshGatewayEvent.event { sawEvent = true }
                    #expect(!sawEvent)
                }
            }
        }
    }
}
