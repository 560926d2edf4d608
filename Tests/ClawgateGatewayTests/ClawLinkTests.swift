import AsyncHTTPClient
import ClawgateClient
import ClawgateGateway
import ClawgateProtocol
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import Testing

/// A ClawLink client's view of the gateway: HTTP with `Authorization: Bearer`.
struct ClawLinkHTTP: Sendable {
    struct Answer: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: String
        var json: JSONValue { (try? JSONCoding.decode(JSONValue.self, from: Data(body.utf8))) ?? .null }
        var error: String? { json["error"]?.stringValue }
    }

    let base: String
    /// nil: no Authorization header.
    var token: String?

    init(_ gw: TestGateway, token: String? = nil) {
        self.base = gw.httpBase
        self.token = token ?? gw.token
    }

    init(base: String, token: String?) {
        self.base = base
        self.token = token
    }

    func send(_ method: HTTPMethod, _ path: String, body: Data? = nil, headers extra: [(String, String)] = []) async throws -> Answer {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let collected = try await response.body.collect(upTo: 4 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers, body: String(buffer: collected))
    }

    func get(_ path: String) async throws -> Answer { try await send(.GET, path) }

    func post(_ path: String, _ value: JSONValue) async throws -> Answer {
        try await send(.POST, path, body: try JSONCoding.encode(value))
    }

    /// POSTs and expects 200; returns the JSON.
    func ok(_ path: String, _ value: JSONValue, sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSONValue {
        let answer = try await post(path, value)
        #expect(answer.status == 200, "\(path): \(answer.body)", sourceLocation: sourceLocation)
        return answer.json
    }

    func poll(_ agentId: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [JSONValue] {
        let answer = try await get("/poll/\(agentId)")
        #expect(answer.status == 200, "poll \(agentId): \(answer.body)", sourceLocation: sourceLocation)
        let messages = answer.json["messages"]?.arrayValue ?? []
        #expect(answer.json["count"]?.intValue == messages.count, sourceLocation: sourceLocation)
        return messages
    }
}

/// Reads frames until one matches, within `timeout`.
func nextFrame(
    _ session: RawSession, timeout: Duration = .seconds(5), where predicate: @escaping @Sendable (JSONValue) -> Bool = { _ in true }
) async throws -> JSONValue {
    nonisolated(unsafe) let session = session
    return try await withDeadline(timeout, "clawlink frame") {
        while let frame = try await session.next() {
            if predicate(frame) { return frame }
        }
        throw GatewayClientError.closed(code: nil, reason: "socket closed before the expected frame")
    }
}

@Suite("ClawLink relay API")
struct ClawLinkTests {
    /// Short leases so that "comes back after the lease" takes well under a second.
    static func shortLeases(_ config: inout GatewayConfig, _: String) {
        config.mesh.settings.leaseMs = 400
        config.mesh.sweepIntervalMs = 50
    }

    @Test func fullClientCycleOverHTTP() async throws {
        try await withGateway(Self.shortLeases) { gw in
            let client = ClawLinkHTTP(gw)

            // Service info.
            let info = try await client.get("/")
            #expect(info.status == 200)
            #expect(info.json["version"] == "1.0.1")
            #expect(info.json["auth_required"] == true)
            #expect(info.json["agents_online"] == 0)
            #expect(info.json["endpoints"]?["POST /delegate"] != nil)
            #expect(info.json["server_time"]?.stringValue?.hasSuffix("Z") == true)

            // Register two agents: one with a chosen id, one with a relay-style generated id.
            let alice = try await client.ok("/register", ["agent_id": "alice", "name": "Alice", "capabilities": ["code", "review"], "description": "writes"])
            #expect(alice["status"] == "registered")
            #expect(alice["agent"]?["agent_id"] == "alice")
            #expect(alice["agent"]?["capabilities"] == ["code", "review"])
            #expect(alice["agent"]?["machine"] == "127.0.0.1")
            #expect(alice["agent"]?["status"] == "online")
            #expect(alice["credential"]?.stringValue?.hasPrefix("cga_") == true)
            let bobAnswer = try await client.ok("/register", ["name": "Bob"])
            let bob = try #require(bobAnswer["agent"]?["agent_id"]?.stringValue)
            #expect(bob.count == 8)

            // Discover.
            let discovered = try await client.get("/discover")
            #expect(discovered.json["count"] == 2)
            let record = try #require(discovered.json["agents"]?.arrayValue?.first { $0["agent_id"] == "alice" })
            #expect(record["name"] == "Alice")
            #expect(record["registered_at"]?.stringValue?.contains("T") == true)
            if case .double(let seconds) = record["last_heartbeat"] ?? .null {
                #expect(abs(seconds - Date().timeIntervalSince1970) < 60)
            } else {
                Issue.record("last_heartbeat is not epoch seconds: \(String(describing: record["last_heartbeat"]))")
            }

            // Heartbeat.
            #expect(try await client.ok("/heartbeat", ["agent_id": "alice"]) == ["status": "ok"])
            #expect(try await client.ok("/heartbeat", ["agent_id": "nobody"]) == ["status": "unknown_agent"])

            // Delegate, poll, respond.
            let delegated = try await client.ok(
                "/delegate", ["from_agent": "alice", "to_agent": .string(bob), "task": "summarize the doc", "context": ["doc": "x"], "priority": "high"]
            )
            #expect(delegated["status"] == "delegated")
            #expect(delegated["delivery"] == "queued")
            let taskId = try #require(delegated["message_id"]?.stringValue)

            let offers = try await client.poll(bob)
            #expect(offers.count == 1)
            let offer = try #require(offers.first)
            #expect(offer["type"] == "task_delegation")
            #expect(offer["message_id"] == .string(taskId))
            #expect(offer["from_agent"] == "alice")
            #expect(offer["to_agent"] == .string(bob))
            #expect(offer["task"] == "summarize the doc")
            #expect(offer["context"] == ["doc": "x"])
            #expect(offer["priority"] == "high")
            #expect(offer["timestamp"]?.stringValue != nil)
            #expect(offer["queued_at"]?.stringValue != nil)

            let responded = try await client.ok(
                "/respond", ["from_agent": .string(bob), "to_agent": "alice", "message_id": .string(taskId), "result": "short summary"]
            )
            #expect(responded == ["status": "response_sent", "delivery": "queued"])

            let results = try await client.poll("alice")
            #expect(results.count == 1)
            let result = try #require(results.first)
            #expect(result["type"] == "task_response")
            #expect(result["message_id"] == .string(taskId))
            #expect(result["from_agent"] == .string(bob))
            #expect(result["to_agent"] == "alice")
            #expect(result["result"] == "short summary")
            #expect(result["status"] == "completed")
            #expect(result["response_id"]?.stringValue != nil)
            // The second poll acknowledges the first one's answer; after the lease the third is
            // still empty, so the result was acknowledged, not just leased.
            #expect(try await client.poll("alice").isEmpty)
            try await Task.sleep(for: .milliseconds(600))
            #expect(try await client.poll("alice").isEmpty)
            // The offer was settled by /respond: nothing comes back for bob either.
            #expect(try await client.poll(bob).isEmpty)

            // Broadcast.
            let sent = try await client.ok("/broadcast", ["from_agent": "alice", "content": "release at 5", "topic": "ops", "tags": ["release"]])
            #expect(sent["status"] == "broadcast_sent")
            #expect(sent["recipients"] == 1)
            let news = try await client.poll(bob)
            #expect(news.count == 1)
            #expect(news.first?["type"] == "knowledge_broadcast")
            #expect(news.first?["message_id"] == sent["message_id"])
            #expect(news.first?["from_agent"] == "alice")
            #expect(news.first?["content"] == "release at 5")
            #expect(news.first?["topic"] == "ops")
            #expect(news.first?["tags"] == ["release"])
            #expect(try await client.get("/").json["total_broadcasts"] == 1)

            // Files: put twice, list, get, 404.
            #expect(try await client.ok("/files", ["file_key": "notes/plan.md", "content": "v1", "agent_id": "alice"]) == ["status": "saved", "version": 1])
            #expect(
                try await client.ok("/files", ["file_key": "notes/plan.md", "content": "v2", "agent_id": "alice", "file_type": "markdown"])
                    == ["status": "saved", "version": 2]
            )
            let listing = try await client.get("/files")
            #expect(listing.status == 200)
            #expect(listing.json["count"] == 1)
            let entry = try #require(listing.json["files"]?.arrayValue?.first)
            #expect(entry["file_key"] == "notes/plan.md")
            #expect(entry["version"] == 2)
            #expect(entry["last_editor"] == "alice")
            #expect(entry["content"] == nil)
            let file = try await client.get("/files/notes/plan.md")
            #expect(file.status == 200)
            #expect(file.json["content"] == "v2")
            #expect(file.json["file_type"] == "markdown")
            #expect(file.json["version"] == 2)
            #expect(file.json["updated_at"]?.stringValue != nil)
            let missing = try await client.get("/files/nope.txt")
            #expect(missing.status == 404)
            #expect(missing.json == ["error": "file not found"])
            // Bob hears about both writes (the broadcast from the previous poll is acknowledged).
            let notices = try await client.poll(bob)
            #expect(notices.map { $0["type"] } == ["file_updated", "file_updated"])
            #expect(Set(notices.compactMap { $0["version"]?.intValue }) == [1, 2])
            #expect(notices.first?["file_key"] == "notes/plan.md")
            #expect(try await client.get("/").json["shared_files"] == 1)
        }
    }

    @Test func aPolledMessageComesBackAfterItsLeaseUntilAcknowledged() async throws {
        try await withGateway(Self.shortLeases) { gw in
            let client = ClawLinkHTTP(gw)
            _ = try await client.ok("/register", ["agent_id": "boss"])
            _ = try await client.ok("/register", ["agent_id": "worker"])
            let taskId = try #require(try await client.ok("/delegate", ["from_agent": "boss", "to_agent": "worker", "task": "t"])["message_id"])
            _ = try await client.ok("/broadcast", ["from_agent": "boss", "content": "note"])

            // The worker polls; suppose the answer is lost and it never polls again.
            let first = try await client.poll("worker")
            #expect(Set(first.compactMap { $0["type"]?.stringValue }) == ["task_delegation", "knowledge_broadcast"])

            // Nothing was removed by reading it: after the lease the same messages are handed out
            // again (here to the worker's push socket, which does not acknowledge by connecting).
            try await Task.sleep(for: .milliseconds(600))
            let again = try await withRawSocket(gw, path: "/ws/worker?token=\(gw.token)") { session in
                let offer = try await nextFrame(session) { $0["type"] == "task_delegation" }
                let note = try await nextFrame(session) { $0["type"] == "knowledge_broadcast" }
                return [offer, note]
            }
            #expect(again.value[0]["message_id"] == taskId)
            #expect(again.value[1]["content"] == "note")
            #expect(again.value[1]["message_id"] == first.first { $0["type"] == "knowledge_broadcast" }?["message_id"])
        }
    }

    @Test func aPushTheAgentNeverConfirmedIsNotAcknowledgedByItsNextPoll() async throws {
        try await withGateway(Self.shortLeases) { gw in
            let client = ClawLinkHTTP(gw)
            _ = try await client.ok("/register", ["agent_id": "boss"])
            _ = try await client.ok("/register", ["agent_id": "worker"])
            // Pushed to the socket, which closes without sending another frame.
            let pushed = try await withRawSocket(gw, path: "/ws/worker?token=\(gw.token)") { session in
                try await session.send(#"{"type":"?"}"#)
                _ = try await nextFrame(session)
                let delegated = try await client.ok("/delegate", ["from_agent": "boss", "to_agent": "worker", "task": "t"])
                #expect(delegated["delivery"] == "websocket")
                return try await nextFrame(session)["message_id"]
            }
            // Wait until the gateway has seen the socket go (delegations are queued again).
            try await withDeadline(.seconds(5), "the push socket is gone") {
                while try await client.ok("/delegate", ["from_agent": "boss", "to_agent": "worker", "task": "probe"])["delivery"] != "queued" {
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            // The next poll does not acknowledge it (it may never have arrived): once its lease
            // has run out, a poll hands it out again. (On a loaded machine the lease may already
            // have run out by the next poll, which then hands it out itself.)
            let next = try await client.poll("worker")
            if !next.contains(where: { $0["message_id"] == pushed.value }) {
                #expect(next.allSatisfy { $0["task"] == "probe" })
                try await Task.sleep(for: .milliseconds(600))
                let again = try await client.poll("worker")
                #expect(again.map { $0["message_id"] } == [pushed.value])
            }
        }
    }

    @Test func pushSocketDeliversDelegationsAndTakesFrames() async throws {
        try await withGateway { gw in
            let client = ClawLinkHTTP(gw)
            _ = try await client.ok("/register", ["agent_id": "alice"])
            _ = try await client.ok("/register", ["agent_id": "bob"])
            let outcome = try await withRawSocket(gw, path: "/ws/bob?token=\(gw.token)") { session in
                // Wait until the socket is registered (a heartbeat frame is answered by nothing,
                // so use an unknown type to get a round trip).
                try await session.send(#"{"type":"nope"}"#)
                let unknown = try await nextFrame(session)
                #expect(unknown["type"] == "error")
                #expect(unknown["error"]?.stringValue?.contains("unknown frame type nope") == true)

                let delegated = try await client.ok("/delegate", ["from_agent": "alice", "to_agent": "bob", "task": "live task"])
                #expect(delegated["delivery"] == "websocket")
                let pushed = try await nextFrame(session)
                #expect(pushed["type"] == "task_delegation")
                #expect(pushed["message_id"] == delegated["message_id"])
                #expect(pushed["task"] == "live task")

                try await session.send("this is not json")
                let invalid = try await nextFrame(session)
                #expect(invalid["type"] == "error")
                #expect(invalid["error"]?.stringValue?.hasPrefix("invalid JSON") == true)

                try await session.send(#"{"type":"heartbeat"}"#)
                try await session.send(#"{"type":"broadcast","content":"from the socket","topic":"ops"}"#)
                let broadcast = try await nextFrame(session)
                #expect(broadcast["type"] == "broadcast_sent")
                #expect(broadcast["recipients"] == 1)
                try await session.send(#"{"type":"delegate","to_agent":"alice","task":"back to you"}"#)
                let delegation = try await nextFrame(session)
                #expect(delegation["type"] == "delegated")
                #expect(delegation["delivery"] == "queued")
                try await session.send(#"{"type":"delegate","to_agent":"ghost","task":"x"}"#)
                let ghost = try await nextFrame(session)
                #expect(ghost["type"] == "error")
                #expect(ghost["error"]?.stringValue?.contains("ghost") == true)
                // Answer the pushed offer over the socket too.
                try await session.send(
                    json: ["type": "respond", "to_agent": "alice", "message_id": pushed["message_id"] ?? .null, "result": "done"] as JSONValue
                )
                let answered = try await nextFrame(session)
                #expect(answered["type"] == "response_sent")
                return delegated["message_id"]
            }
            // Alice gets the broadcast, bob's delegation and the result of her task.
            let messages = try await client.poll("alice")
            #expect(Set(messages.compactMap { $0["type"]?.stringValue }) == ["knowledge_broadcast", "task_delegation", "task_response"])
            let response = try #require(messages.first { $0["type"] == "task_response" })
            #expect(response["message_id"] == outcome.value)
            #expect(response["result"] == "done")
            #expect(messages.first { $0["type"] == "task_delegation" }?["from_agent"] == "bob")
        }
    }

    @Test func newestPushSocketWins() async throws {
        try await withGateway { gw in
            let client = ClawLinkHTTP(gw)
            _ = try await client.ok("/register", ["agent_id": "solo"])
            let path = "/ws/solo?token=\(gw.token)"
            let first = try await withRawSocket(gw, path: path) { session in
                try await session.send(#"{"type":"ping?"}"#)
                _ = try await nextFrame(session)
                let second = try await withRawSocket(gw, path: path) { newer in
                    try await newer.send(#"{"type":"ping?"}"#)
                    return try await nextFrame(newer)["type"]
                }
                #expect(second.value == "error")
                return await session.remaining()
            }
            #expect(first.closeCode == 1000)
            #expect(first.closeReason?.contains("replaced") == true)
        }
    }

    @Test func authFailures() async throws {
        try await withGateway { gw in
            let anonymous = ClawLinkHTTP(base: gw.httpBase, token: nil)
            let wrong = ClawLinkHTTP(base: gw.httpBase, token: "not-the-token")
            for answer in [
                try await anonymous.get("/discover"), try await wrong.get("/discover"), try await anonymous.get("/"),
                try await wrong.post("/register", ["agent_id": "x"]),
                // `?token=` counts only on the /ws upgrade.
                try await anonymous.get("/discover?token=\(gw.token)"), try await anonymous.get("/poll/x?token=\(gw.token)"),
            ] {
                #expect(answer.status == 401)
                #expect(answer.json == ["error": "Unauthorized. Provide Authorization: Bearer <token>"])
            }
            #expect(try await ClawLinkHTTP(gw).get("/discover").status == 200)
            // The /ws path: refused upgrades, and what a plain GET there says.
            await #expect(throws: (any Error).self) {
                _ = try await withRawSocket(gw, path: "/ws/x") { _ in }
            }
            await #expect(throws: (any Error).self) {
                _ = try await withRawSocket(gw, path: "/ws/x?token=wrong") { _ in }
            }
            #expect(try await anonymous.get("/ws/x?token=wrong").status == 401)
            #expect(try await anonymous.get("/ws/x?token=\(gw.token)").status == 404)
            _ = try await ClawLinkHTTP(gw).ok("/register", ["agent_id": "x"])
            #expect(try await anonymous.get("/ws/x?token=\(gw.token)").status == 426)
        }
    }

    @Test func failedAttemptsAreRateLimited() async throws {
        try await withGateway({ config, _ in config.gateway.auth.rateLimit.maxAttempts = 2 }) { gw in
            // Through a proxy header the caller is no longer a direct loopback client.
            let proxied = [("X-Forwarded-For", "203.0.113.7")]
            let wrong = ClawLinkHTTP(base: gw.httpBase, token: "guess")
            #expect(try await wrong.send(.GET, "/discover", headers: proxied).status == 401)
            #expect(try await wrong.send(.GET, "/discover", headers: proxied).status == 401)
            let locked = try await wrong.send(.GET, "/discover", headers: proxied)
            #expect(locked.status == 429)
            #expect(Int(locked.headers.first(name: "retry-after") ?? "") ?? 0 > 0)
            #expect(locked.error?.contains("too many failed authentication attempts") == true)
            // Locked out means locked out, even with the right secret.
            #expect(try await ClawLinkHTTP(gw).send(.GET, "/discover", headers: proxied).status == 429)
            // A direct loopback client is exempt.
            #expect(try await ClawLinkHTTP(gw).get("/discover").status == 200)
        }
    }

    @Test func passwordAndNoAuthModes() async throws {
        try await withGateway(authMode: .password, password: "hunter2") { gw in
            let right = try await ClawLinkHTTP(base: gw.httpBase, token: "hunter2").get("/discover")
            let token = try await ClawLinkHTTP(gw).get("/discover")
            #expect(right.status == 200)
            #expect(token.status == 401)
        }
        try await withGateway(authMode: AuthMode.none) { gw in
            let answer = try await ClawLinkHTTP(base: gw.httpBase, token: nil).get("/")
            #expect(answer.status == 200)
            #expect(answer.json["auth_required"] == false)
        }
    }

    @Test func badInput() async throws {
        try await withGateway { gw in
            let client = ClawLinkHTTP(gw)
            _ = try await client.ok("/register", ["agent_id": "a"])
            _ = try await client.ok("/register", ["agent_id": "b"])

            let invalid = try await client.send(.POST, "/delegate", body: Data("{not json".utf8))
            #expect(invalid.status == 400)
            #expect(invalid.error?.hasPrefix("invalid JSON: ") == true)
            let array = try await client.send(.POST, "/register", body: Data("[1]".utf8))
            #expect(array.status == 400)
            #expect(array.error?.hasPrefix("invalid JSON: ") == true)

            func expectError(
                _ answer: ClawLinkHTTP.Answer, _ status: Int, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation
            ) {
                #expect(answer.status == status, "\(answer.body)", sourceLocation: sourceLocation)
                #expect(answer.error?.contains(fragment) == true, "\(answer.body)", sourceLocation: sourceLocation)
            }
            expectError(try await client.post("/delegate", ["from_agent": "a", "task": "x"]), 400, "from_agent, to_agent, and task are required")
            expectError(try await client.post("/delegate", ["from_agent": "a", "to_agent": "ghost", "task": "x"]), 404, "unknown agent to_agent ghost")
            expectError(try await client.post("/delegate", ["from_agent": "ghost", "to_agent": "a", "task": "x"]), 404, "unknown agent from_agent ghost")
            expectError(try await client.post("/delegate", ["from_agent": "a", "to_agent": "b", "task": "x", "priority": "asap"]), 400, "priority")
            expectError(try await client.post("/delegate", ["from_agent": "a", "to_agent": "a", "task": "x"]), 400, "itself")
            expectError(try await client.post("/delegate", ["from_agent": "a", "to_agent": "b", "task": 42]), 400, "task must be a string")
            expectError(try await client.post("/heartbeat", [:]), 400, "agent_id is required")
            expectError(try await client.post("/broadcast", ["from_agent": "a"]), 400, "from_agent and content are required")
            expectError(try await client.post("/files", ["file_key": "k", "agent_id": "a"]), 400, "file_key, content, and agent_id are required")
            expectError(try await client.post("/files", ["file_key": "k", "content": "c", "agent_id": "ghost"]), 404, "unknown agent")
            expectError(try await client.get("/poll/ghost"), 404, "unknown agent ghost")
            expectError(try await client.post("/register", ["agent_id": "bad id!"]), 400, "agentId")

            // /respond validates everything.
            expectError(try await client.post("/respond", ["from_agent": "b", "result": "r"]), 400, "to_agent, message_id")
            expectError(
                try await client.post("/respond", ["from_agent": "b", "to_agent": "a", "message_id": "no-such-task", "result": "r"]), 404,
                "unknown task no-such-task"
            )
            let taskId = try #require(try await client.ok("/delegate", ["from_agent": "a", "to_agent": "b", "task": "x"])["message_id"])
            expectError(try await client.post("/respond", ["from_agent": "a", "to_agent": "b", "message_id": taskId, "result": "r"]), 400, "delegated by a")
            expectError(try await client.post("/respond", ["from_agent": "b", "to_agent": "a", "message_id": taskId, "result": "r", "status": "meh"]), 400, "status")
            #expect(try await client.ok("/respond", ["from_agent": "b", "to_agent": "a", "message_id": taskId, "result": "boom", "status": "error"])["status"] == "response_sent")
            expectError(try await client.post("/respond", ["from_agent": "b", "to_agent": "a", "message_id": taskId, "result": "again"]), 409, "failed")
            let failure = try #require(try await client.poll("a").first)
            #expect(failure["status"] == "failed")
            #expect(failure["result"] == "boom")

            // Size and method limits.
            let big = Data(("{\"agent_id\":\"a\",\"pad\":\"" + String(repeating: "x", count: 2_000_000) + "\"}").utf8)
            let tooLarge = try await client.send(.POST, "/heartbeat", body: big)
            #expect(tooLarge.status == 413)
            #expect(tooLarge.error?.contains("larger than 1048576 bytes") == true)
            let wrongMethod = try await client.get("/register")
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.headers.first(name: "allow") == "POST")
            #expect(wrongMethod.error != nil)
            #expect(try await client.send(.DELETE, "/files").status == 405)
        }
    }

    @Test func gatewaySocketStillUpgradesBesideClawLink() async throws {
        try await withGateway { gw in
            for path in ["/", "/gateway"] {
                var options = gw.adminOptions()
                options.url = gw.url + path
                try await connect(options) { conn in
                    #expect(conn.hello.type == "hello-ok", "\(path)")
                    let health = try await conn.call("health")
                    #expect(health["ok"] == true, "\(path)")
                }
            }
            // While a plain GET on `/` is the ClawLink service info.
            let info = try await ClawLinkHTTP(gw).get("/")
            #expect(info.json["version"] == "1.0.1")
        }
    }
}
