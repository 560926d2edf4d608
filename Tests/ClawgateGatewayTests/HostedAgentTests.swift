import AsyncHTTPClient
import ClawgateAgents
import ClawgateClient
import ClawgateGateway
import ClawgateModels
import ClawgateProtocol
import ClawgateUpstream
import Foundation
import NIOCore
import Testing

/// A provider entry pointing at the test upstream.
func upstreamProvider(_ id: String, _ upstream: UpstreamServer, models: [String] = ["m1"], api: ModelAPI = .openAICompletions)
    -> AgentsConfig.ProviderEntry
{
    AgentsConfig.ProviderEntry(
        id: id, baseUrl: api == .anthropicMessages ? upstream.anthropicBaseURL : upstream.openAIBaseURL, apiKey: nil, api: api,
        headers: [:], models: models.map { ModelDefinition(id: $0) }
    )
}

/// Hosted agents over the gateway socket: chat, agent runs, sessions, abort, retries and
/// fallback, all against a real local LLM server.
@Suite(.serialized) struct HostedAgentTests {
    static func configure(_ config: inout GatewayConfig, _ upstream: UpstreamServer, primary: String = "local/m1", fallbacks: [String]? = nil) {
        config.agents.providers = [upstreamProvider("local", upstream, models: ["m1", "m2"]), upstreamProvider("backup", upstream, models: ["b1"])]
        config.agents.defaults.primaryModel = primary
        config.agents.defaults.fallbackModels = fallbacks
        config.agents.timeouts.firstTokenMs = 400
        config.agents.retry.initialBackoffMs = 10
        config.agents.retry.maxBackoffMs = 20
    }

    static func finalChat(_ conn: GatewayConnection, runId: String, timeout: Duration = .seconds(10)) async throws -> EventFrame {
        try await waitForEvent(conn, GatewayEvent.chat, timeout: timeout) { event in
            event.payload?["runId"]?.stringValue == runId && event.payload?["state"]?.stringValue != "delta"
        }
    }

    @Test func chatSendStreamsDeltasThenFinalAndKeepsHistory() async throws {
        try await UpstreamServer.with { upstream in
            try await withGateway({ config, _ in Self.configure(&config, upstream) }) { gw in
                try await connect(gw.adminOptions()) { conn in
                    let ack = try await conn.call(
                        "chat.send", params: ["sessionKey": "main", "message": "hello there friend", "idempotencyKey": "run-1"]
                    )
                    #expect(ack["runId"] == "run-1")
                    #expect(ack["status"] == "started")
                    let delta = try await waitForEvent(conn, GatewayEvent.chat) { $0.payload?["state"] == "delta" }
                    #expect(delta.payload?["sessionKey"] == "agent:main:main")
                    #expect(delta.payload?["deltaText"]?.stringValue?.isEmpty == false)
                    let final = try await Self.finalChat(conn, runId: "run-1")
                    #expect(final.payload?["state"] == "final")
                    #expect(final.payload?["message"]?["content"]?[0]?["text"] == "echo: hello there friend")
                    #expect(final.payload?["usage"]?["totalTokens"]?.intValue ?? 0 > 0)

                    let history = try await conn.call("chat.history", params: ["sessionKey": "main"])
                    let messages = try #require(history["messages"]?.arrayValue)
                    #expect(messages.count == 2)
                    #expect(messages.first?["role"] == "user")
                    #expect(messages.last?["role"] == "assistant")
                    #expect(messages.last?["content"]?[0]?["text"] == "echo: hello there friend")

                    let sessions = try await conn.call("sessions.list", params: [:])
                    let row = try #require(sessions["sessions"]?.arrayValue?.first)
                    #expect(row["key"] == "agent:main:main")
                    #expect(row["totalTokens"]?.intValue ?? 0 > 0)
                    #expect(row["model"] == "m1")
                    // The upstream saw the history and the new message in order.
                    let sent = try #require(upstream.requests(path: "/v1/chat/completions").last?.body?["messages"]?.arrayValue)
                    #expect(sent.last?["content"] == "hello there friend")
                }
            }
        }
    }

    @Test func agentAnswersTwiceAndWaitReportsTheEnd() async throws {
        try await UpstreamServer.with { upstream in
            try await withGateway({ config, _ in Self.configure(&config, upstream) }) { gw in
                try await connect(gw.adminOptions()) { conn in
                    // Raw frames: the accepted ack and the final come on the same request id.
                    try await conn.sendRaw(#"{"type":"req","id":"a1","method":"agent","params":{"message":"two stage","idempotencyKey":"agent-run"}}"#)
                    let lifecycle = try await waitForEvent(conn, GatewayEvent.agent) { $0.payload?["stream"] == "lifecycle" }
                    #expect(lifecycle.payload?["runId"] == "agent-run")
                    let final = try await conn.call("agent", params: ["message": "again", "idempotencyKey": "agent-run-2"])
                    #expect(final["status"] == "ok")
                    #expect(final["result"]?["payloads"]?[0]?["text"] == "echo: again")
                    let waited = try await conn.call("agent.wait", params: ["runId": "agent-run", "timeoutMs": 5000])
                    #expect(waited["status"] == "ok")
                    let unknown = try await expectCallFails(conn, "agent.wait", params: ["runId": "nope"])
                    #expect(unknown.code == ErrorCode.invalidRequest)
                    let bad = try await expectCallFails(conn, "agent", params: ["message": "", "idempotencyKey": "x"])
                    #expect(bad.message.contains("message must not be empty"))
                }
            }
        }
    }

    @Test func repeatedIdempotencyKeyIsInFlightNotRerun() async throws {
        try await UpstreamServer.with { upstream in
            upstream.script(model: "m1", [.slow("one two three four", chunkDelayMs: 150)])
            try await withGateway({ config, _ in
                Self.configure(&config, upstream)
                // Not a timeout test: 400 ms to the first token (150 ms away) failed the attempt
                // on a busy machine, and its retry was a second upstream request.
                config.agents.timeouts.firstTokenMs = 5_000
            }) { gw in
                try await connect(gw.adminOptions()) { conn in
                    let params: JSONValue = ["sessionKey": "main", "message": "once", "idempotencyKey": "dup"]
                    #expect(try await conn.call("chat.send", params: params)["status"] == "started")
                    #expect(try await conn.call("chat.send", params: params)["status"] == "in_flight")
                    _ = try await Self.finalChat(conn, runId: "dup")
                    #expect(upstream.requests(path: "/v1/chat/completions").count == 1)
                }
            }
        }
    }

    @Test func runsOfOneSessionTakeTurnsAndWakeRunsTheMainSession() async throws {
        try await UpstreamServer.with { upstream in
            upstream.script(model: "m1", [.slow("slow first answer", chunkDelayMs: 100), .echo, .echo])
            try await withGateway({ config, _ in Self.configure(&config, upstream) }) { gw in
                try await connect(gw.adminOptions()) { conn in
                    _ = try await conn.call("chat.send", params: ["sessionKey": "main", "message": "one", "idempotencyKey": "lane-1"])
                    _ = try await conn.call("chat.send", params: ["sessionKey": "main", "message": "two", "idempotencyKey": "lane-2"])
                    // The second run starts only after the first ended, and sees its answer.
                    let first = try await Self.finalChat(conn, runId: "lane-1")
                    #expect(upstream.requests(path: "/v1/chat/completions").count == 1)
                    let second = try await Self.finalChat(conn, runId: "lane-2")
                    #expect(first.payload?["message"]?["content"]?[0]?["text"] == "slow first answer")
                    #expect(second.payload?["message"]?["content"]?[0]?["text"] == "echo: two")
                    let sent = upstream.requests(path: "/v1/chat/completions").last?.body?["messages"]?.arrayValue ?? []
                    #expect(sent.count == 3)
                    #expect(sent[1]["content"] == "slow first answer")

                    let wake = try await conn.call("wake", params: ["mode": "now", "text": "check the inbox"])
                    let wakeRun = try #require(wake["runId"]?.stringValue)
                    let woke = try await Self.finalChat(conn, runId: wakeRun)
                    #expect(woke.payload?["message"]?["content"]?[0]?["text"] == "echo: System: check the inbox")
                }
            }
        }
    }

    @Test func abortStopsTheUpstreamRequestAndKeepsThePartialAnswer() async throws {
        try await UpstreamServer.with { upstream in
            upstream.script(model: "m1", [.hangAfterFirstChunk])
            try await withGateway({ config, _ in Self.configure(&config, upstream) }) { gw in
                try await connect(gw.adminOptions()) { conn in
                    _ = try await conn.call("chat.send", params: ["sessionKey": "main", "message": "long", "idempotencyKey": "r-abort"])
                    _ = try await waitForEvent(conn, GatewayEvent.chat) { $0.payload?["state"] == "delta" }
                    let abort = try await conn.call("chat.abort", params: ["sessionKey": "main"])
                    #expect(abort["aborted"] == true)
                    #expect(abort["runIds"] == ["r-abort"])
                    let end = try await Self.finalChat(conn, runId: "r-abort")
                    #expect(end.payload?["state"] == "aborted")
                    try await withDeadline(.seconds(3), "upstream sees the cancel") {
                        while upstream.cancelledCount < 1 { try await Task.sleep(for: .milliseconds(20)) }
                    }
                    // A client without the `tool-events` cap never sees tool streams; an injected
                    // note lands in the transcript and is announced as a final chat event.
                    let injected = try await conn.call("chat.inject", params: ["sessionKey": "main", "message": "operator note", "label": "ops"])
                    let injectedRun = try #require(injected["runId"]?.stringValue)
                    let note = try await Self.finalChat(conn, runId: injectedRun)
                    #expect(note.payload?["message"]?["content"]?[0]?["text"] == "operator note")
                    let again = try await conn.call("chat.abort", params: ["sessionKey": "main"])
                    #expect(again["aborted"] == false)
                    let history = try await conn.call("chat.history", params: ["sessionKey": "main"])
                    let stored = history["messages"]?.arrayValue ?? []
                    #expect(stored.dropLast().last?["stopReason"] == "aborted")
                    #expect(stored.dropLast().last?["content"]?[0]?["text"] == "partial")
                    #expect(stored.last?["stopReason"] == "injected")
                }
            }
        }
    }

    @Test func retriesThenFallsBackToTheNextModel() async throws {
        try await UpstreamServer.with { upstream in
            upstream.script(model: "m1", [.status(429, message: "slow down"), .status(500, message: "boom"), .status(503, message: "down")])
            try await withGateway({ config, _ in Self.configure(&config, upstream, fallbacks: ["backup/b1"]) }) { gw in
                try await connect(gw.adminOptions()) { conn in
                    let final = try await conn.call("agent", params: ["message": "resilient", "idempotencyKey": "r-fb"])
                    #expect(final["result"]?["payloads"]?[0]?["text"] == "echo: resilient")
                    #expect(final["result"]?["meta"]?["provider"] == "backup")
                    let models = upstream.requests(path: "/v1/chat/completions").compactMap { $0.body?["model"]?.stringValue }
                    #expect(models == ["m1", "m1", "m1", "b1"])
                }
            }
        }
    }

    @Test func firstTokenTimeoutMovesOnAndErrorsCarryTheirKind() async throws {
        try await UpstreamServer.with { upstream in
            upstream.script(model: "m1", [.hang, .hang, .hang])
            try await withGateway({ config, _ in Self.configure(&config, upstream, fallbacks: ["backup/b1"]) }) { gw in
                try await connect(gw.adminOptions()) { conn in
                    let final = try await conn.call("agent", params: ["message": "are you there", "idempotencyKey": "r-tt"])
                    #expect(final["result"]?["meta"]?["provider"] == "backup")
                    try await withDeadline(.seconds(3), "hung requests canceled") {
                        while upstream.cancelledCount < 3 { try await Task.sleep(for: .milliseconds(20)) }
                    }
                    // Without a fallback the error reaches the client with its kind.
                    upstream.script(model: "b1", [.contextLengthExceeded])
                    _ = try await conn.call("sessions.patch", params: ["key": "main", "model": "backup/b1"])
                    _ = try await conn.call("chat.send", params: ["sessionKey": "main", "message": "too long", "idempotencyKey": "r-cl"])
                    let error = try await Self.finalChat(conn, runId: "r-cl")
                    #expect(error.payload?["state"] == "error")
                    #expect(error.payload?["errorKind"] == "context_length")
                    #expect(error.payload?["errorDetail"]?["provider"] == "backup")
                }
            }
        }
    }

    @Test(arguments: [ModelAPI.anthropicMessages, .openAIResponses])
    func otherProviderAPIsAnswerChat(api: ModelAPI) async throws {
        try await UpstreamServer.with(apiKey: "upstream-key") { upstream in
            try await withGateway({ config, _ in
                var provider = upstreamProvider("other", upstream, models: ["o1"], api: api)
                provider.apiKey = .literal(Secret("upstream-key"))
                config.agents.providers = [provider]
                config.agents.defaults.primaryModel = "other/o1"
            }) { gw in
                try await connect(gw.adminOptions()) { conn in
                    let final = try await conn.call("agent", params: ["message": .string("via \(api.rawValue)"), "idempotencyKey": "api-1"])
                    #expect(final["result"]?["payloads"]?[0]?["text"] == .string("echo: via \(api.rawValue)"))
                    #expect(final["result"]?["meta"]?["usage"]?["total"]?.intValue ?? 0 > 0)
                    let path = api == .anthropicMessages ? "/v1/messages" : "/v1/responses"
                    #expect(upstream.requests(path: path).count == 1)
                }
            }
        }
    }

    @Test func sessionsPatchResetDeleteAndBadInput() async throws {
        try await UpstreamServer.with { upstream in
            try await withGateway({ config, _ in Self.configure(&config, upstream) }) { gw in
                try await connect(gw.adminOptions()) { conn in
                    _ = try await conn.call("agent", params: ["message": "first", "idempotencyKey": "s-1"])
                    let patched = try await conn.call("sessions.patch", params: ["key": "main", "label": "work", "model": "local/m2"])
                    #expect(patched["entry"]?["label"] == "work")
                    #expect(patched["resolved"]?["model"] == "m2")
                    _ = try await conn.call("agent", params: ["message": "second", "idempotencyKey": "s-2"])
                    #expect(upstream.requests(path: "/v1/chat/completions").last?.body?["model"] == "m2")
                    let cleared = try await conn.call("sessions.patch", params: ["key": "main", "label": .null])
                    #expect(cleared["entry"]?["label"] == nil)
                    let preview = try await conn.call("sessions.preview", params: ["keys": ["main", "agent:main:nothing"]])
                    #expect(preview["previews"]?[0]?["status"] == "ok")
                    #expect(preview["previews"]?[1]?["status"] == "missing")
                    let before = try await conn.call("sessions.resolve", params: ["key": "main"])
                    #expect(before["key"] == "agent:main:main")
                    let oldId = try #require(try await conn.call("chat.history", params: ["sessionKey": "main"])["sessionId"]?.stringValue)
                    let reset = try await conn.call("sessions.reset", params: ["key": "main"])
                    #expect(reset["entry"]?["sessionId"]?.stringValue != oldId)
                    #expect(reset["entry"]?["modelOverride"] == "m2")
                    let archived = try FileManager.default.contentsOfDirectory(atPath: gw.stateDir + "/agents/main/sessions")
                    #expect(archived.contains { $0.hasPrefix("\(oldId).jsonl.reset.") })
                    #expect(try await conn.call("chat.history", params: ["sessionKey": "main"])["messages"] == [])
                    #expect(try await conn.call("sessions.delete", params: ["key": "main"])["deleted"] == true)
                    #expect(try await conn.call("sessions.delete", params: ["key": "main"])["deleted"] == false)

                    for (method, params, fragment) in [
                        ("sessions.patch", ["key": "main", "model": "nope/x"] as JSONValue, "unknown model"),
                        ("sessions.patch", ["key": "main", "execHost": "x"], "not supported"),
                        ("sessions.patch", ["key": "main", "sendPolicy": "maybe"], "sendPolicy must be one of"),
                        ("chat.send", ["sessionKey": "agent:ghost:main", "message": "x", "idempotencyKey": "k"], "unknown agent"),
                        ("chat.send", ["sessionKey": "main", "message": "x", "idempotencyKey": ""], "idempotencyKey"),
                        ("chat.send", ["sessionKey": "main", "message": "x", "idempotencyKey": "k", "extra": 1], "unexpected property 'extra'"),
                        ("chat.history", ["sessionKey": "main", "limit": 0], "limit must be from 1 to 1000"),
                        ("sessions.preview", ["keys": []], "1 to 100"),
                        ("models.list", ["view": "weird"], "view must be one of"),
                        ("wake", ["mode": "later", "text": "x"], "mode must be"),
                    ] {
                        let error = try await expectCallFails(conn, method, params: params)
                        #expect(error.code == ErrorCode.invalidRequest, "\(method)")
                        #expect(error.message.contains(fragment), "\(method): \(error.message)")
                    }
                }
            }
        }
    }

    @Test func catalogMethodsDescribeAgentsAndModels() async throws {
        try await UpstreamServer.with { upstream in
            try await withGateway({ config, _ in
                Self.configure(&config, upstream)
                var coder = AgentsConfig.AgentEntry(id: "coder")
                coder.name = "Coder"
                coder.identityEmoji = "🛠"
                coder.primaryModel = "backup/b1"
                config.agents.list = [AgentsConfig.AgentEntry(id: "main"), coder]
            }) { gw in
                try await connect(gw.adminOptions()) { conn in
                    let agents = try await conn.call("agents.list")
                    #expect(agents["defaultId"] == "main")
                    #expect(agents["agents"]?.arrayValue?.map { $0["id"] } == ["main", "coder"])
                    #expect(agents["agents"]?[1]?["model"]?["primary"] == "backup/b1")
                    let identity = try await conn.call("agent.identity.get", params: ["agentId": "coder"])
                    #expect(identity["name"] == "Coder")
                    #expect(identity["emoji"] == "🛠")
                    let models = try await conn.call("models.list")
                    #expect(models["models"]?.arrayValue?.count == 3)
                    let final = try await conn.call("agent", params: ["message": "hi coder", "agentId": "coder", "idempotencyKey": "c-1"])
                    #expect(final["result"]?["meta"]?["sessionKey"] == "agent:coder:main")
                    #expect(upstream.requests(path: "/v1/chat/completions").last?.body?["model"] == "b1")
                }
            }
        }
    }

    @Test func transcriptsSurviveRestartAndATornLineStaysReadable() async throws {
        let stateDir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: stateDir) }
        try await UpstreamServer.with { upstream in
            try await withGateway({ config, _ in Self.configure(&config, upstream) }, stateDir: stateDir) { gw in
                try await connect(gw.adminOptions()) { conn in
                    _ = try await conn.call("agent", params: ["message": "remember me", "idempotencyKey": "t-1"])
                }
            }
            // Simulate a crash in the middle of an append: a torn, unterminated last line.
            let sessionsDir = stateDir + "/agents/main/sessions"
            let transcript = try #require(try FileManager.default.contentsOfDirectory(atPath: sessionsDir).first { $0.hasSuffix(".jsonl") })
            let handle = try #require(FileHandle(forWritingAtPath: sessionsDir + "/" + transcript))
            handle.seekToEndOfFile()
            handle.write(Data(#"{"type":"message","id":"torn","message":{"role":"assis"#.utf8))
            handle.closeFile()
            try await withGateway({ config, _ in Self.configure(&config, upstream) }, stateDir: stateDir) { gw in
                try await connect(gw.adminOptions()) { conn in
                    let history = try await conn.call("chat.history", params: ["sessionKey": "main"])
                    #expect(history["messages"]?.arrayValue?.compactMap { $0["content"]?[0]?["text"]?.stringValue } == ["remember me", "echo: remember me"])
                    _ = try await conn.call("agent", params: ["message": "after crash", "idempotencyKey": "t-2"])
                    let after = try await conn.call("chat.history", params: ["sessionKey": "main"])
                    let afterText = "\(after)"
                    #expect(after["messages"]?.arrayValue?.count == 4, "\(afterText)")
                    // The model got the earlier turns as history.
                    let sent = upstream.requests(path: "/v1/chat/completions").last?.body?["messages"]?.arrayValue ?? []
                    #expect(sent.count == 3)
                }
            }
            // Every line of the file but the torn one is valid JSON.
            let lines = try String(contentsOfFile: sessionsDir + "/" + transcript, encoding: .utf8).split(separator: "\n")
            let invalid = lines.filter { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) == nil }
            #expect(invalid.count == 1)
        }
    }

    @Test func aConnectedMeshAgentAnswersChatAsARemoteAgent() async throws {
        try await withGateway({ config, _ in config.agents.chatCompletionsEnabled = true }) { (gw: TestGateway) async throws -> Void in
            try await connect(MeshRPCTests.agentOptions(gw)) { remote in
                _ = try await MeshRPCTests.register(remote, "remote-bot")
                let work = Task {
                    var types: [String] = []
                    for _ in 0..<2 {
                        let offer = try await MeshRPCTests.nextEvent(remote, MeshGatewayEvent.delivery)
                        let taskId = try #require(offer.payload?["taskId"]?.stringValue)
                        let message = offer.payload?["payload"]?["context"]?["message"]?.stringValue ?? ""
                        _ = try await remote.call("mesh.accept", params: ["taskId": .string(taskId)])
                        _ = try await remote.call(
                            "mesh.complete", params: ["taskId": .string(taskId), "result": ["text": .string("remote says: \(message)")]]
                        )
                        types.append(offer.payload?["payload"]?["type"]?.stringValue ?? "")
                    }
                    return types
                }
                try await connect(gw.adminOptions()) { conn in
                    _ = try await conn.call(
                        "chat.send", params: ["sessionKey": "agent:remote-bot:main", "message": "hello remote", "idempotencyKey": "remote-1"]
                    )
                    let final = try await Self.finalChat(conn, runId: "remote-1")
                    #expect(final.payload?["state"] == "final")
                    #expect(final.payload?["message"]?["content"]?[0]?["text"] == "remote says: hello remote")
                    let history = try await conn.call("chat.history", params: ["sessionKey": "agent:remote-bot:main"])
                    #expect(history["messages"]?.arrayValue?.count == 2)
                    // An agent id that is neither configured nor connected is refused.
                    let error = try await expectCallFails(conn, "agent", params: ["message": "x", "agentId": "ghost", "idempotencyKey": "g"])
                    #expect(error.message.contains("unknown agent"))
                }
                // The same agent over the OpenAI-compatible API.
                let answer = try await OpenAIHTTPTests.send(
                    gw.httpBase + "/v1/chat/completions", body: ["model": "openclaw/remote-bot", "messages": [["role": "user", "content": "via http"]]]
                )
                #expect(answer.json["choices"]?[0]?["message"]?["content"] == "remote says: via http")
                #expect(try await work.value == ["chat", "chat"])
            }
        }
    }

    @Test func hostedAgentDelegatesToAMeshAgentThroughTheToolLoop() async throws {
        try await UpstreamServer.with { upstream in
            upstream.script(
                model: "m1",
                [
                    .toolCall(name: "mesh_delegate", arguments: #"{"capabilities":["review"],"type":"review","description":"check this"}"#),
                    .replyWithToolResult,
                ]
            )
            try await withGateway({ config, _ in Self.configure(&config, upstream) }) { gw in
                try await connect(MeshRPCTests.agentOptions(gw)) { worker in
                    _ = try await MeshRPCTests.register(worker, "reviewer", capabilities: ["review"])
                    let work = Task {
                        let offer = try await MeshRPCTests.nextEvent(worker, MeshGatewayEvent.delivery)
                        let taskId = try #require(offer.payload?["taskId"]?.stringValue)
                        _ = try await worker.call("mesh.accept", params: ["taskId": .string(taskId)])
                        _ = try await worker.call("mesh.complete", params: ["taskId": .string(taskId), "result": ["verdict": "looks good"]])
                    }
                    var toolWatcher = gw.adminOptions()
                    toolWatcher.caps = ["tool-events"]
                    try await connect(toolWatcher) { conn in
                        let final = try await conn.call("agent", params: ["message": "get a review", "idempotencyKey": "tool-1"], timeout: .seconds(10))
                        // Tool activity reached this client, which declared the `tool-events` cap.
                        let toolEvent = try await waitForEvent(conn, GatewayEvent.agent) { $0.payload?["stream"] == "tool" }
                        #expect(toolEvent.payload?["data"]?["name"] == "mesh_delegate")
                        let text = try #require(final["result"]?["payloads"]?[0]?["text"]?.stringValue)
                        #expect(text.contains("tool result:"))
                        #expect(text.contains("looks good"))
                        let history = try await conn.call("chat.history", params: ["sessionKey": "main"])
                        let roles = history["messages"]?.arrayValue?.compactMap { $0["role"]?.stringValue }
                        #expect(roles == ["user", "assistant", "toolResult", "assistant"])
                        #expect(history["messages"]?[1]?["content"]?[0]?["name"] == "mesh_delegate")
                    }
                    try await work.value
                }
            }
        }
    }
}
