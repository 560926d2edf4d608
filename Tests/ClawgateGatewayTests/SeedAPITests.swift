import AsyncHTTPClient
import ClawgateGateway
import ClawgateProtocol
import Foundation
import NIOHTTP1
import Testing

/// A seed-000 client: envelopes to `/api/openclaw/send`, over ClawLink's HTTP helper (same
/// bearer auth).
struct SeedHTTP: Sendable {
    let http: ClawLinkHTTP

    init(_ gw: TestGateway, token: String? = nil) {
        self.http = ClawLinkHTTP(gw, token: token)
    }

    static func envelope(_ type: String, _ agentId: String, _ payload: JSONValue, namespace: String? = nil) -> JSONValue {
        var fields: [String: JSONValue] = [
            "protocol_version": "1.0", "message_type": .string(type), "agent_id": .string(agentId),
            "timestamp": .string(Date().ISO8601Format()), "payload": payload,
        ]
        if let namespace { fields["namespace"] = .string(namespace) }
        return .object(fields)
    }

    func send(_ type: String, _ agentId: String, _ payload: JSONValue = [:], namespace: String? = nil) async throws -> ClawLinkHTTP.Answer {
        try await http.post("/api/openclaw/send", Self.envelope(type, agentId, payload, namespace: namespace))
    }

    /// Sends and expects 200; returns the JSON.
    func ok(
        _ type: String, _ agentId: String, _ payload: JSONValue = [:], namespace: String? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> JSONValue {
        let answer = try await send(type, agentId, payload, namespace: namespace)
        #expect(answer.status == 200, "\(type): \(answer.body)", sourceLocation: sourceLocation)
        return answer.json
    }

    func get(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSONValue {
        let answer = try await http.get(path)
        #expect(answer.status == 200, "\(path): \(answer.body)", sourceLocation: sourceLocation)
        return answer.json
    }
}

/// A JSON number as a Double (`1.0` may come back as the integer `1`).
func seedNumber(_ value: JSONValue?) -> Double? {
    switch value {
    case .int(let number)?: Double(number)
    case .double(let number)?: number
    default: nil
    }
}

/// Expects a refusal with this status, `code` and a message containing `fragment`.
func expectSeedError(
    _ answer: ClawLinkHTTP.Answer, _ status: Int, _ code: String, _ fragment: String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(answer.status == status, "\(answer.body)", sourceLocation: sourceLocation)
    #expect(answer.json["code"]?.stringValue == code, "\(answer.body)", sourceLocation: sourceLocation)
    #expect(answer.error.map { fragment.isEmpty || $0.contains(fragment) } == true, "\(answer.body)", sourceLocation: sourceLocation)
}

@Suite("Seed-000 HTTP API")
struct SeedAPITests {
    @Test func fullCycleThroughSend() async throws {
        try await withGateway { gw in
            let seed = SeedHTTP(gw)

            // Two agents register.
            let loki = try await seed.ok(
                "register", "loki-1",
                [
                    "name": "Loki Mode", "version": "5.42.2", "capabilities": ["code_review", "security_audit", "testing"],
                    "agent_types": ["eng-qa", "eng-backend"], "max_concurrent_tasks": 2, "supported_models": ["opus", "sonnet"],
                    "description": "reviews code",
                ]
            )
            #expect(loki["status"] == "registered")
            #expect(loki["created"] == true)
            #expect(loki["message_type"] == "register")
            #expect(loki["namespace"] == "default")
            #expect(loki["credential"]?.stringValue?.hasPrefix("cga_") == true)
            let record = try #require(loki["agent"])
            #expect(record["agent_id"] == "loki-1")
            #expect(record["name"] == "Loki Mode")
            #expect(record["agent_types"] == ["eng-qa", "eng-backend"])
            #expect(record["supported_models"] == ["opus", "sonnet"])
            #expect(record["max_concurrent_tasks"] == 2)
            #expect(record["status"] == "online")
            #expect(record["last_heartbeat"]?.stringValue?.hasSuffix("Z") == true)
            let planner = try await seed.ok("register", "metagpt", ["name": "MetaGPT", "capabilities": ["planning"]])
            #expect(planner["created"] == true)
            // Re-registering keeps what is left out and is not "created".
            let again = try await seed.ok("register", "loki-1", ["description": "reviews more code"])
            #expect(again["created"] == false)
            #expect(again["credential"] == nil)
            #expect(again["agent"]?["capabilities"] == ["code_review", "security_audit", "testing"])
            #expect(again["agent"]?["description"] == "reviews more code")

            let beat = try await seed.ok("heartbeat", "loki-1")
            #expect(beat["status"] == "ok")
            #expect(beat["agent"]?["active_tasks"] == 0)

            // Capability discovery.
            let response = try await seed.ok("capability_query", "metagpt", ["query_type": "supports_task_type", "task_type": "code_review"])
            #expect(response["protocol_version"] == "1.0")
            #expect(response["message_type"] == "capability_response")
            #expect(response["agent_id"] == "clawgate")
            #expect(response["namespace"] == "default")
            #expect(response["timestamp"]?.stringValue != nil)
            let found = try #require(response["payload"])
            #expect(found["supported"] == true)
            #expect(found["agent_types"] == ["eng-backend", "eng-qa"])
            #expect(found["agents"]?.arrayValue?.map { $0["agent_id"] } == ["loki-1"])
            #expect(seedNumber(found["confidence"]) == 1.0)
            #expect(found["estimated_cost"] == .null)
            #expect(found["available_agents"] == 1)
            #expect(found["in_reply_to"] == "metagpt")
            let partial = try await seed.ok("capability_query", "metagpt", ["capabilities": ["code_review", "deployment"]])
            #expect(partial["payload"]?["supported"] == false)
            #expect(seedNumber(partial["payload"]?["confidence"]) == 0.5)
            #expect(partial["payload"]?["agents"] == [])
            let none = try await seed.ok("capability_query", "metagpt", ["task_type": "frontend_development"])
            #expect(none["payload"]?["supported"] == false)
            #expect(seedNumber(none["payload"]?["confidence"]) == 0.0)
            let byModel = try await seed.ok("capability_query", "metagpt", ["task_type": "code_review", "model": "haiku"])
            #expect(byModel["payload"]?["supported"] == false)

            // task_offer, routed by requirements.
            let deadline = Date().addingTimeInterval(3600).ISO8601Format()
            let offerPayload: JSONValue = [
                "task_id": "external-task-123", "task_type": "code_review", "description": "Review authentication module",
                "files": ["src/auth.py", "tests/test_auth.py"], "priority": "high", "deadline": .string(deadline),
                "requirements": ["skills": ["code_review"], "model": "opus", "estimated_cost": 0.5],
            ]
            let offered = try await seed.ok("task_offer", "metagpt", offerPayload)
            #expect(offered["message_type"] == "task_offer")
            #expect(offered["status"] == "offered")
            let taskId = try #require(offered["task_id"]?.stringValue)
            let task = try #require(offered["task"])
            #expect(task["task_id"] == .string(taskId))
            #expect(task["client_task_id"] == "external-task-123")
            #expect(task["assigned_to"] == "loki-1")
            #expect(task["from_agent"] == "metagpt")
            #expect(task["task_type"] == "code_review")
            #expect(task["files"] == ["src/auth.py", "tests/test_auth.py"])
            #expect(task["priority"] == "high")
            #expect(task["deadline"]?.stringValue?.hasPrefix(String(deadline.prefix(19))) == true)
            #expect(task["requirements"]?["skills"] == ["code_review"])
            #expect(task["requirements"]?["model"] == "opus")
            #expect(task["requirements"]?["estimated_cost"] == 0.5)
            // The same client task_id again: the same task.
            let repeated = try await seed.ok("task_offer", "metagpt", offerPayload)
            #expect(repeated["task_id"] == .string(taskId))

            // The assignee answers, naming the task by the client's id or the gateway's.
            let accepted = try await seed.ok("task_accept", "loki-1", ["task_id": "external-task-123", "assigned_agent": "review-code", "estimated_duration": 600])
            #expect(accepted["status"] == "accepted")
            #expect(accepted["task_id"] == .string(taskId))
            let updated = try await seed.ok("task_update", "loki-1", ["task_id": .string(taskId), "percentage": 50, "message": "halfway"])
            #expect(updated["status"] == "in_progress")
            #expect(updated["task"]?["progress"]?["percentage"] == 50)
            #expect(updated["task"]?["progress"]?["message"] == "halfway")
            let completed = try await seed.ok("task_complete", "loki-1", ["task_id": .string(taskId), "result": ["findings": 2, "summary": "ok"]])
            #expect(completed["status"] == "completed")

            // The task API shows the outcome.
            let shown = try await seed.get("/tasks/\(taskId)")
            #expect(shown["task_id"] == .string(taskId))
            #expect(shown["status"] == "completed")
            #expect(shown["result"] == ["findings": 2, "summary": "ok"])
            #expect(shown["error"] == .null)
            #expect(shown["assigned_to"] == "loki-1")
            #expect(shown["progress"]?["percentage"] == 50)
            #expect(try await seed.get("/tasks/external-task-123?agent_id=metagpt")["task_id"] == .string(taskId))

            // The event log as seed messages, oldest first among the newest.
            let listing = try await seed.get("/api/openclaw/messages?limit=50")
            let messages = try #require(listing["messages"]?.arrayValue)
            #expect(listing["count"]?.intValue == messages.count)
            let types = messages.compactMap { $0["message_type"]?.stringValue }
            for expected in ["register", "task_offer", "task_accept", "task_update", "task_complete"] {
                #expect(types.contains(expected), "\(types)")
            }
            let seqs = messages.compactMap { $0["seq"]?.intValue }
            #expect(seqs == seqs.sorted())
            #expect(listing["last_seq"]?.intValue == seqs.last)
            for message in messages {
                #expect(message["protocol_version"] == "1.0")
                #expect(message["namespace"] == "default")
                #expect(message["timestamp"]?.stringValue?.hasSuffix("Z") == true)
            }
            let last = try #require(messages.last)
            #expect(last["message_type"] == "task_complete")
            #expect(last["event"] == "task_completed")
            #expect(last["agent_id"] == "loki-1")
            #expect(last["payload"]?["task_id"] == .string(taskId))
            #expect(last["payload"]?["status"] == "completed")
            let offerMessage = try #require(messages.first { $0["event"] == "task_offered" })
            #expect(offerMessage["message_type"] == "task_offer")
            #expect(offerMessage["agent_id"] == "metagpt")
            #expect(offerMessage["payload"]?["assigned_to"] == "loki-1")
            let tail = try await seed.get("/api/openclaw/messages?limit=2")
            #expect(tail["count"] == 2)
            #expect(tail["messages"]?.arrayValue?.last?["message_type"] == "task_complete")

            let status = try await seed.get("/api/openclaw/status")
            #expect(status["agents"]?["online"] == 2)
            #expect(status["tasks"]?["recent"]?["by_state"]?["completed"] == 1)
            #expect(status["tasks"]?["pending"] == 0)
        }
    }

    @Test func failuresRejectionsAndFailedMessages() async throws {
        try await withGateway { gw in
            let seed = SeedHTTP(gw)
            _ = try await seed.ok("register", "a", ["capabilities": ["x"]])
            _ = try await seed.ok("register", "b", ["capabilities": ["x"]])
            _ = try await seed.ok("register", "c", ["capabilities": ["x"]])

            // Sent to a named agent: a rejection ends it.
            let named = try await seed.ok("task_offer", "a", ["task_type": "t", "to_agent": "b", "requirements": ["model": "opus"]])
            let namedId = try #require(named["task_id"]?.stringValue)
            #expect(named["task"]?["to_agent"] == "b")
            #expect(named["task"]?["requirements"]?["model"] == "opus")
            let rejected = try await seed.ok("task_reject", "b", ["task_id": .string(namedId), "reason": "busy"])
            #expect(rejected["status"] == "rejected")
            #expect(rejected["task"]?["error"]?.stringValue?.contains("busy") == true)

            // Completion straight from the offer, as a failure.
            let offer = try await seed.ok("task_offer", "a", ["task_type": "t", "to_agent": "c"])
            let offerId = try #require(offer["task_id"]?.stringValue)
            let failed = try await seed.ok("task_complete", "c", ["task_id": .string(offerId), "status": "failed", "error": "boom"])
            #expect(failed["status"] == "failed")
            let shown = try await seed.get("/tasks/\(offerId)")
            #expect(shown["status"] == "failed")
            #expect(shown["error"] == "boom")
            #expect(shown["result"] == .null)

            // Only the failure is a failed message.
            let failedMessages = try #require(try await seed.get("/api/openclaw/messages?status=failed")["messages"]?.arrayValue)
            #expect(failedMessages.count == 1)
            #expect(failedMessages.first?["message_type"] == "task_complete")
            #expect(failedMessages.first?["event"] == "task_failed")
            #expect(failedMessages.first?["payload"]?["task_id"] == .string(offerId))
            #expect(failedMessages.first?["payload"]?["error"] == "boom")
            let all = try #require(try await seed.get("/api/openclaw/messages?limit=500")["messages"]?.arrayValue)
            let reject = try #require(all.first { $0["message_type"] == "task_reject" })
            #expect(reject["agent_id"] == "b")
        }
    }

    @Test func taskAPI() async throws {
        try await withGateway { gw in
            let seed = SeedHTTP(gw)
            _ = try await seed.ok("register", "autogpt", ["capabilities": ["testing"]])
            _ = try await seed.ok("register", "loki-12345", ["capabilities": ["code_review"]])

            // The seed's AutoGPT example, plus the delegating agent.
            let created = try await seed.http.post(
                "/tasks",
                [
                    "agent_id": "autogpt", "task_type": "code_review", "description": "Review API implementation",
                    "files": ["api/routes.py"], "target_agent": "loki-12345",
                ]
            )
            #expect(created.status == 201, "\(created.body)")
            let taskId = try #require(created.json["task_id"]?.stringValue)
            #expect(created.json["status"] == "offered")
            #expect(created.json["from_agent"] == "autogpt")
            #expect(created.json["to_agent"] == "loki-12345")
            #expect(created.json["assigned_to"] == "loki-12345")
            #expect(created.json["files"] == ["api/routes.py"])

            let polled = try await seed.get("/tasks/\(taskId)")
            #expect(polled["status"] == "offered")
            #expect(polled["result"] == .null)
            _ = try await seed.ok("task_complete", "loki-12345", ["task_id": .string(taskId), "result": "LGTM"])
            let done = try await seed.get("/tasks/\(taskId)")
            #expect(done["status"] == "completed")
            #expect(done["result"] == "LGTM")

            // Routed by requirements nobody meets: waits queued.
            let queued = try await seed.http.post(
                "/tasks", ["from_agent": "autogpt", "task_type": "deploy", "requirements": ["skills": ["kubernetes"]], "priority": "urgent"]
            )
            #expect(queued.status == 201)
            #expect(queued.json["status"] == "queued")
            #expect(queued.json["assigned_to"] == .null)
            #expect(queued.json["priority"] == "urgent")
            // ...until an agent that can do it registers.
            _ = try await seed.ok("register", "ops", ["capabilities": ["kubernetes"]])
            let queuedId = try #require(queued.json["task_id"]?.stringValue)
            var routed: JSONValue = .null
            for _ in 0..<40 {
                routed = try await seed.get("/tasks/\(queuedId)")
                if routed["status"] == "offered" { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(routed["status"] == "offered")
            #expect(routed["assigned_to"] == "ops")

            // Other namespaces do not see it; unknown ids are 404s.
            expectSeedError(try await seed.http.get("/tasks/\(taskId)?namespace=prod"), 404, "not_found", "unknown task")
            expectSeedError(try await seed.http.get("/tasks/no-such-task"), 404, "not_found", "unknown task no-such-task")
            expectSeedError(try await seed.http.post("/tasks", ["task_type": "x", "target_agent": "loki-12345"]), 400, "invalid_input", "agent_id")
            expectSeedError(try await seed.http.post("/tasks", ["agent_id": "autogpt", "target_agent": "loki-12345"]), 400, "invalid_input", "task_type")
            expectSeedError(try await seed.http.post("/tasks", ["agent_id": "ghost", "task_type": "x"]), 404, "not_found", "ghost")
            expectSeedError(
                try await seed.http.post("/tasks", ["agent_id": "autogpt", "task_type": "x", "target_agent": "ghost"]), 404, "not_found",
                "to_agent ghost"
            )
            expectSeedError(
                try await seed.http.post("/tasks", ["agent_id": "autogpt", "task_type": "x", "target_agent": "ops", "deadline": "tomorrow"]),
                400, "invalid_input", "deadline"
            )
            expectSeedError(
                try await seed.http.post("/tasks", ["agent_id": "autogpt", "task_type": "x", "target_agent": "ops", "deadline": 1000]), 400,
                "invalid_input", "past"
            )
            #expect(try await seed.http.send(.DELETE, "/tasks/\(taskId)").status == 405)
        }
    }

    @Test func stateSyncConflictPolicies() async throws {
        try await withGateway { gw in
            let seed = SeedHTTP(gw)
            _ = try await seed.ok("register", "loki", [:])
            _ = try await seed.ok("register", "crew", [:])

            // The seed's example: the payload itself is the state of document `session`.
            let first = try await seed.ok(
                "state_sync", "loki", ["session_status": "running", "iteration": 42, "tasks_pending": 5, "cost_usd": 2.34]
            )
            #expect(first["status"] == "synced")
            #expect(first["conflict_policy"] == "last-write-wins")
            #expect(first["state"]?["key"] == "session")
            #expect(first["state"]?["version"] == 1)
            #expect(first["state"]?["state"] == ["session_status": "running", "iteration": 42, "tasks_pending": 5, "cost_usd": 2.34])
            #expect(first["state"]?["updated_by"] == "loki")

            // last-write-wins replaces.
            let replaced = try await seed.ok("state_sync", "crew", ["state": ["session_status": "paused", "queue": ["a"]]])
            #expect(replaced["state"]?["version"] == 2)
            #expect(replaced["state"]?["state"] == ["session_status": "paused", "queue": ["a"]])

            // merge adds.
            let merged = try await seed.ok(
                "state_sync", "loki", ["state": ["iteration": 43, "queue": ["b"]], "conflict_policy": "merge"]
            )
            #expect(merged["conflict_policy"] == "merge")
            #expect(merged["state"]?["version"] == 3)
            #expect(merged["state"]?["state"] == ["session_status": "paused", "queue": ["a", "b"], "iteration": 43])

            // reject: only with the version the writer read.
            let guarded = try await seed.ok("state_sync", "crew", ["state": ["session_status": "done"], "conflict_policy": "reject", "version": 3])
            #expect(guarded["state"]?["version"] == 4)
            let conflict = try await seed.send("state_sync", "loki", ["state": ["session_status": "running"], "conflict_policy": "reject", "version": 3])
            expectSeedError(conflict, 409, "conflict", "version 4, not 3")
            expectSeedError(
                try await seed.send("state_sync", "loki", ["state": ["x": 1], "conflict_policy": "reject"]), 400, "invalid_input", "version"
            )
            expectSeedError(
                try await seed.send("state_sync", "loki", ["state": ["x": 1], "conflict_policy": "first-wins"]), 400, "invalid_input",
                "conflict_policy"
            )
            expectSeedError(try await seed.send("state_sync", "loki", ["key": "empty"]), 400, "invalid_input", "state")

            // A new document under reject starts from version 0; keys are separate documents.
            let fresh = try await seed.ok("state_sync", "loki", ["key": "agents", "state": ["active": 12], "conflict_policy": "reject", "version": 0])
            #expect(fresh["state"]?["key"] == "agents")
            #expect(fresh["state"]?["version"] == 1)

            let events = try #require(try await seed.get("/api/openclaw/messages")["messages"]?.arrayValue)
            let syncs = events.filter { $0["message_type"] == "state_sync" }
            #expect(syncs.count == 5)
            #expect(syncs.last?["payload"]?["key"] == "agents")
            let policies = syncs.compactMap { $0["payload"]?["conflict_policy"]?.stringValue }
            #expect(policies == ["last-write-wins", "last-write-wins", "merge", "reject", "reject"])
        }
    }

    @Test func healthStatusAndCapabilitiesShapes() async throws {
        try await withGateway { gw in
            let seed = SeedHTTP(gw)
            let health = try await seed.get("/api/openclaw/health")
            #expect(health["status"] == "healthy")
            #expect(health["connected"] == true)
            #expect(health["ready"] == true)
            #expect(health["protocol_version"] == "1.0")
            #expect(health["agents_online"] == 0)
            #expect(health["last_heartbeat"] == .null)
            #expect((seedNumber(health["latency_ms"]) ?? -1) >= 0)

            _ = try await seed.ok("register", "loki", ["capabilities": ["code_review"], "agent_types": ["eng-qa"], "supported_models": ["opus"]])
            _ = try await seed.ok("register", "crew", ["capabilities": ["deployment"], "agent_types": ["ops"]], namespace: "prod")
            _ = try await seed.ok("task_offer", "crew", ["task_type": "deploy", "requirements": ["skills": ["nobody-has-this"]]], namespace: "prod")

            let healthy = try await seed.get("/api/openclaw/health")
            #expect(healthy["agents_online"] == 1)
            #expect(healthy["last_heartbeat"]?.stringValue?.hasSuffix("Z") == true)

            let status = try await seed.get("/api/openclaw/status")
            #expect(status["connected"] == true)
            #expect(status["status"] == "healthy")
            #expect(status["namespace"] == "default")
            #expect(status["agents"] == ["total": 1, "online": 1, "stale": 0, "connected": 0])
            #expect(status["tasks"]?["pending"] == 0)
            #expect(status["tasks"]?["in_progress"] == 0)
            #expect(status["tasks"]?["active_by_state"]?["queued"] == 0)
            #expect(status["tasks"]?["recent"]?["by_state"]?["completed"] == 0)
            let prod = try await seed.get("/api/openclaw/status?namespace=prod")
            #expect(prod["namespace"] == "prod")
            #expect(prod["agents"]?["total"] == 1)
            #expect(prod["tasks"]?["pending"] == 1)
            #expect(prod["tasks"]?["active_by_state"]?["queued"] == 1)
            #expect(prod["tasks"]?["truncated"] == false)

            let capabilities = try await seed.get("/api/openclaw/capabilities")
            #expect(capabilities["protocol_version"] == "1.0")
            let types = try #require(capabilities["supported_message_types"]?.arrayValue)
            #expect(types.count == 10)
            #expect(types.contains("capability_response"))
            #expect(capabilities["accepted_message_types"]?.arrayValue?.contains("capability_response") == false)
            #expect(capabilities["conflict_policies"] == ["last-write-wins", "merge", "reject"])
            #expect(capabilities["capabilities"] == ["code_review"])
            #expect(capabilities["agent_types"] == ["eng-qa"])
            #expect(capabilities["supported_models"] == ["opus"])
            #expect(capabilities["count"] == 1)
            #expect(capabilities["agents"]?.arrayValue?.first?["agent_id"] == "loki")
            #expect(capabilities["limits"]?["max_message_bytes"] == 1_048_576)
            #expect(try await seed.get("/api/openclaw/capabilities?namespace=prod")["capabilities"] == ["deployment"])

            // Messages are per namespace.
            let prodMessages = try #require(try await seed.get("/api/openclaw/messages?namespace=prod")["messages"]?.arrayValue)
            #expect(prodMessages.allSatisfy { $0["namespace"] == "prod" })
            #expect(prodMessages.contains { $0["message_type"] == "task_offer" })
            let defaultMessages = try #require(try await seed.get("/api/openclaw/messages")["messages"]?.arrayValue)
            #expect(defaultMessages.map { $0["message_type"] } == ["register"])
        }
    }

    @Test func messagesReachPastOtherNamespacesEvents() async throws {
        try await withGateway { gw in
            let seed = SeedHTTP(gw)
            _ = try await seed.ok("register", "a", [:])
            for key in ["k1", "k2", "k3"] { _ = try await seed.ok("state_sync", "a", ["key": .string(key), "state": ["v": 1]]) }
            // Many newer events elsewhere: the newest ones of `default` lie far back in the log.
            _ = try await seed.ok("register", "p", [:], namespace: "prod")
            for index in 0..<600 { _ = try await seed.ok("state_sync", "p", ["state": ["i": .int(index)]], namespace: "prod") }
            _ = try await seed.ok("state_sync", "a", ["key": "k4", "state": ["v": 1]])

            let five = try #require(try await seed.get("/api/openclaw/messages?limit=5")["messages"]?.arrayValue)
            #expect(five.map { $0["message_type"] } == ["register", "state_sync", "state_sync", "state_sync", "state_sync"])
            #expect(five.compactMap { $0["payload"]?["key"]?.stringValue } == ["k1", "k2", "k3", "k4"])
            let two = try #require(try await seed.get("/api/openclaw/messages?limit=2")["messages"]?.arrayValue)
            #expect(two.compactMap { $0["payload"]?["key"]?.stringValue } == ["k3", "k4"])
            #expect(try await seed.get("/api/openclaw/messages?limit=500")["count"] == 5)
            #expect(try await seed.get("/api/openclaw/messages?status=failed")["count"] == 0)
            let prod = try await seed.get("/api/openclaw/messages?namespace=prod&limit=500")
            #expect(prod["count"] == 500)
            #expect(prod["messages"]?.arrayValue?.last?["payload"]?["version"] == 600)
        }
    }

    @Test func allowedNamespacesAreEnforced() async throws {
        try await withGateway({ config, _ in config.mesh.settings.allowedNamespaces = ["default"] }) { gw in
            let seed = SeedHTTP(gw)
            expectSeedError(try await seed.http.get("/api/openclaw/status?namespace=prod"), 403, "forbidden", "prod")
            expectSeedError(try await seed.send("register", "x", [:], namespace: "prod"), 403, "forbidden", "prod")
            _ = try await seed.ok("register", "x", [:])
        }
    }

    @Test func badInput() async throws {
        try await withGateway { gw in
            let seed = SeedHTTP(gw)
            let client = seed.http
            _ = try await seed.ok("register", "a", ["capabilities": ["x"]])
            _ = try await seed.ok("register", "b", ["capabilities": ["x"]])

            // Auth.
            let anonymous = ClawLinkHTTP(base: gw.httpBase, token: nil)
            let wrong = ClawLinkHTTP(base: gw.httpBase, token: "not-the-token")
            for answer in [
                try await anonymous.get("/api/openclaw/health"), try await wrong.get("/api/openclaw/status"),
                try await anonymous.post("/api/openclaw/send", SeedHTTP.envelope("heartbeat", "a", [:])),
                try await anonymous.post("/tasks", ["agent_id": "a", "task_type": "x", "to_agent": "b"]),
                try await wrong.get("/tasks/x"), try await anonymous.get("/api/openclaw/messages?token=\(gw.token)"),
            ] {
                expectSeedError(answer, 401, "unauthorized", "Unauthorized")
            }

            // Body.
            expectSeedError(try await client.send(.POST, "/api/openclaw/send", body: Data("{not json".utf8)), 400, "invalid_input", "invalid JSON")
            expectSeedError(try await client.send(.POST, "/api/openclaw/send", body: Data("[1]".utf8)), 400, "invalid_input", "JSON object")
            expectSeedError(try await client.send(.POST, "/tasks", body: Data("{".utf8)), 400, "invalid_input", "invalid JSON")
            let big = Data(("{\"message_type\":\"heartbeat\",\"agent_id\":\"a\",\"pad\":\"" + String(repeating: "x", count: 1_100_000) + "\"}").utf8)
            expectSeedError(try await client.send(.POST, "/api/openclaw/send", body: big), 413, "too_large", "1048576")
            expectSeedError(try await client.send(.POST, "/tasks", body: big), 413, "too_large")

            // Envelope.
            let unknownType = try await client.post("/api/openclaw/send", SeedHTTP.envelope("task_steal", "a", [:]))
            expectSeedError(unknownType, 400, "invalid_input", "unknown message_type task_steal")
            #expect(unknownType.error?.contains("task_offer") == true)
            #expect(unknownType.error?.contains("capability_query") == true)
            expectSeedError(try await client.post("/api/openclaw/send", ["agent_id": "a"]), 400, "invalid_input", "message_type is required")
            expectSeedError(try await client.post("/api/openclaw/send", ["message_type": "heartbeat"]), 400, "invalid_input", "agent_id is required")
            expectSeedError(
                try await client.post("/api/openclaw/send", ["message_type": "heartbeat", "agent_id": "", "payload": [:]]), 400, "invalid_input",
                "agent_id is required"
            )
            expectSeedError(
                try await client.post("/api/openclaw/send", ["protocol_version": "2.0", "message_type": "heartbeat", "agent_id": "a"]), 400,
                "invalid_input", "unsupported protocol_version 2.0"
            )
            #expect(try await client.post("/api/openclaw/send", ["protocol_version": "1", "message_type": "heartbeat", "agent_id": "a"]).status == 200)
            #expect(try await client.post("/api/openclaw/send", ["message_type": "heartbeat", "agent_id": "a"]).status == 200)
            expectSeedError(
                try await client.post("/api/openclaw/send", ["message_type": "heartbeat", "agent_id": "a", "payload": [1]]), 400, "invalid_input",
                "payload must be an object"
            )
            expectSeedError(try await seed.send("capability_response", "a", ["supported": true]), 400, "invalid_input", "capability_query")

            // Unknown agents and tasks.
            expectSeedError(try await seed.send("heartbeat", "ghost"), 404, "not_found", "unknown agent ghost")
            expectSeedError(try await seed.send("heartbeat", "a", namespace: "prod"), 404, "not_found", "namespace prod")
            expectSeedError(try await seed.send("task_offer", "ghost", ["task_type": "x"]), 404, "not_found", "ghost")
            expectSeedError(try await seed.send("task_accept", "a", ["task_id": "no-such-task"]), 404, "not_found", "unknown task no-such-task")
            expectSeedError(try await seed.send("task_accept", "a", [:]), 400, "invalid_input", "task_id")
            expectSeedError(try await seed.send("capability_query", "a", [:]), 400, "invalid_input", "task_type")
            expectSeedError(try await client.get("/tasks/no-such-task"), 404, "not_found", "unknown task")

            // Field checks.
            expectSeedError(try await seed.send("task_offer", "a", ["task_type": "x", "priority": "asap"]), 400, "invalid_input", "priority")
            expectSeedError(try await seed.send("task_offer", "a", ["task_type": "x", "to_agent": "a"]), 400, "invalid_input", "itself")
            expectSeedError(try await seed.send("task_offer", "a", ["task_type": "x", "files": "a,b", "requirements": "x"]), 400, "invalid_input", "requirements")
            expectSeedError(try await seed.send("register", "c", ["max_concurrent_tasks": 0]), 400, "invalid_input", "max_concurrent_tasks")
            expectSeedError(try await seed.send("register", "c", ["capabilities": 5]), 400, "invalid_input", "capabilities")
            expectSeedError(try await seed.send("register", "bad id!"), 400, "invalid_input", "agentId")
            // The same id in another namespace.
            expectSeedError(try await seed.send("register", "a", namespace: "prod"), 409, "conflict", "namespace default")

            // Mesh refusals keep their kind.
            let task = try await seed.ok("task_offer", "a", ["task_type": "x", "to_agent": "b"])
            let taskId = try #require(task["task_id"]?.stringValue)
            expectSeedError(try await seed.send("task_accept", "a", ["task_id": .string(taskId)]), 403, "forbidden", "not assigned")
            expectSeedError(try await seed.send("task_update", "b", ["task_id": .string(taskId), "percentage": 10]), 409, "illegal_transition", "offered")
            _ = try await seed.ok("task_accept", "b", ["task_id": .string(taskId)])
            expectSeedError(try await seed.send("task_update", "b", ["task_id": .string(taskId), "percentage": 150]), 400, "invalid_input", "percentage")
            expectSeedError(try await seed.send("task_complete", "b", ["task_id": .string(taskId), "status": "meh"]), 400, "invalid_input", "status")
            _ = try await seed.ok("task_complete", "b", ["task_id": .string(taskId), "result": "r"])
            expectSeedError(try await seed.send("task_complete", "b", ["task_id": .string(taskId), "result": "again"]), 409, "illegal_transition", "completed")

            // Queries and methods.
            for query in ["limit=0", "limit=501", "limit=abc", "status=weird"] {
                expectSeedError(try await client.get("/api/openclaw/messages?\(query)"), 400, "invalid_input")
            }
            let wrongMethod = try await client.get("/api/openclaw/send")
            expectSeedError(wrongMethod, 405, "method_not_allowed")
            #expect(wrongMethod.headers.first(name: "allow") == "POST")
            expectSeedError(try await client.post("/api/openclaw/status", [:]), 405, "method_not_allowed")
            expectSeedError(try await client.get("/tasks"), 405, "method_not_allowed")
        }
    }
}
