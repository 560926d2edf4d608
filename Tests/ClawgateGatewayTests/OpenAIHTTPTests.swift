import AsyncHTTPClient
import ClawgateGateway
import ClawgateModels
import ClawgateProtocol
import ClawgateUpstream
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// The OpenAI-compatible HTTP API, `/tools/invoke` and the hooks, over real HTTP.
@Suite(.serialized) struct OpenAIHTTPTests {
    struct Answer: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var text: String
        var json: JSONValue { (try? JSONCoding.decode(JSONValue.self, from: Data(text.utf8))) ?? .null }
    }

    static func send(
        _ url: String, method: HTTPMethod = .POST, body: JSONValue? = nil, raw: String? = nil, token: String? = "test-token",
        headers: [(String, String)] = []
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let raw {
            request.body = .bytes(ByteBuffer(string: raw))
        } else if let body {
            request.body = .bytes(ByteBuffer(data: try JSONCoding.encode(body)))
            request.headers.add(name: "Content-Type", value: "application/json")
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let buffer = try await response.body.collect(upTo: 16 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers, text: String(buffer: buffer))
    }

    /// `data:` payloads of an SSE body, in order.
    static func sseData(_ text: String) -> [String] {
        text.components(separatedBy: "\n").filter { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
    }

    static func configure(_ config: inout GatewayConfig, _ upstream: UpstreamServer) {
        HostedAgentTests.configure(&config, upstream)
        config.agents.defaults.embeddingModel = "local/m1"
        config.agents.chatCompletionsEnabled = true
        config.agents.responsesEnabled = true
    }

    @Test func chatCompletionsNonStreamAndStream() async throws {
        try await UpstreamServer.with { upstream in
            try await withGateway({ config, _ in Self.configure(&config, upstream) }) { gw in
                let url = gw.httpBase + "/v1/chat/completions"
                let plain = try await Self.send(url, body: ["model": "openclaw", "messages": [["role": "user", "content": "hi http"]]])
                #expect(plain.status == 200)
                #expect(plain.json["object"] == "chat.completion")
                #expect(plain.json["choices"]?[0]?["message"]?["content"] == "echo: hi http")
                #expect(plain.json["choices"]?[0]?["finish_reason"] == "stop")
                #expect(plain.json["usage"]?["total_tokens"]?.intValue ?? 0 > 0)
                #expect(plain.json["model"] == "openclaw")

                let streamed = try await Self.send(
                    url,
                    body: [
                        "model": "openclaw/main", "stream": true, "stream_options": ["include_usage": true],
                        "messages": [["role": "system", "content": "be brief"], ["role": "user", "content": [["type": "text", "text": "stream me"]]]],
                    ]
                )
                #expect(streamed.status == 200)
                #expect(streamed.headers.first(name: "content-type") == "text/event-stream")
                let data = Self.sseData(streamed.text)
                #expect(data.last == "[DONE]")
                let chunks = data.dropLast().compactMap { try? JSONCoding.decode(JSONValue.self, from: Data($0.utf8)) }
                let text = chunks.compactMap { $0["choices"]?[0]?["delta"]?["content"]?.stringValue }.joined()
                #expect(text == "echo: stream me")
                #expect(chunks.contains { $0["choices"]?[0]?["finish_reason"] == "stop" })
                #expect(chunks.last?["usage"]?["total_tokens"]?.intValue ?? 0 > 0)
                // The system message reached the upstream; nothing was stored for stateless calls.
                let sent = upstream.requests(path: "/v1/chat/completions").last?.body?["messages"]?.arrayValue ?? []
                #expect(sent.first?["role"] == "system")
                #expect(!FileManager.default.fileExists(atPath: gw.stateDir + "/agents/main/sessions/sessions.json"))

                // `user` gives a stable session whose transcript carries the history.
                for message in ["first turn", "second turn"] {
                    let answer = try await Self.send(url, body: ["model": "openclaw", "user": "alice", "messages": [["role": "user", "content": .string(message)]]])
                    #expect(answer.json["choices"]?[0]?["message"]?["content"] == .string("echo: \(message)"))
                }
                let history = upstream.requests(path: "/v1/chat/completions").last?.body?["messages"]?.arrayValue ?? []
                #expect(history.count == 3)
                // Full session routing and agent choice by header.
                let routed = try await Self.send(
                    url, body: ["model": "openclaw", "messages": [["role": "user", "content": "routed"]]],
                    headers: [("x-openclaw-session-key", "agent:main:from-http"), ("x-openclaw-agent-id", "main")]
                )
                #expect(routed.status == 200)
                let stored = try String(contentsOfFile: gw.stateDir + "/agents/main/sessions/sessions.json", encoding: .utf8)
                #expect(stored.contains("agent:main:from-http"))
                #expect(stored.contains("agent:main:openai-user:alice"))
                let ghost = try await Self.send(url, body: ["model": "openclaw", "messages": [["role": "user", "content": "x"]]], headers: [("x-openclaw-agent-id", "ghost")])
                #expect(ghost.status == 404)
            }
        }
    }

    @Test func clientToolsPassThroughAndBackendModelOverride() async throws {
        try await UpstreamServer.with { upstream in
            upstream.script(model: "m2", [.toolCall(name: "get_weather", arguments: #"{"city":"Oslo"}"#)])
            try await withGateway({ config, _ in
                Self.configure(&config, upstream)
                config.agents.defaults.toolsAllow = []
            }) { gw in
                let tools: JSONValue = [["type": "function", "function": ["name": "get_weather", "parameters": ["type": "object"]]]]
                let answer = try await Self.send(
                    gw.httpBase + "/v1/chat/completions",
                    body: ["model": "openclaw", "tools": tools, "messages": [["role": "user", "content": "weather?"]]],
                    headers: [("x-openclaw-model", "local/m2")]
                )
                #expect(answer.status == 200)
                let call = answer.json["choices"]?[0]?["message"]?["tool_calls"]?[0]
                #expect(call?["function"]?["name"] == "get_weather")
                #expect(call?["function"]?["arguments"] == #"{"city":"Oslo"}"#)
                #expect(answer.json["choices"]?[0]?["finish_reason"] == "tool_calls")
                let sentTools = upstream.requests(path: "/v1/chat/completions").last?.body?["tools"]?.arrayValue ?? []
                #expect(sentTools.count == 1)
            }
        }
    }

    @Test func responsesEmbeddingsAndModels() async throws {
        try await UpstreamServer.with { upstream in
            try await withGateway({ config, _ in Self.configure(&config, upstream) }) { gw in
                let response = try await Self.send(gw.httpBase + "/v1/responses", body: ["model": "openclaw", "input": "hi responses"])
                #expect(response.status == 200)
                #expect(response.json["object"] == "response")
                #expect(response.json["output_text"] == "echo: hi responses")
                #expect(response.json["output"]?[0]?["content"]?[0]?["text"] == "echo: hi responses")

                let streamed = try await Self.send(
                    gw.httpBase + "/v1/responses", body: ["model": "openclaw", "input": [["role": "user", "content": "stream responses"]], "stream": true]
                )
                let events = streamed.text.components(separatedBy: "\n").filter { $0.hasPrefix("event: ") }.map { String($0.dropFirst(7)) }
                #expect(events.first == "response.created")
                #expect(events.last == "response.completed")
                let deltas = Self.sseData(streamed.text).compactMap { try? JSONCoding.decode(JSONValue.self, from: Data($0.utf8)) }
                    .filter { $0["type"] == "response.output_text.delta" }.compactMap { $0["delta"]?.stringValue }
                #expect(deltas.joined() == "echo: stream responses")

                let floats = try await Self.send(gw.httpBase + "/v1/embeddings", body: ["model": "openclaw", "input": ["a", "b"]])
                #expect(floats.status == 200)
                let vectors = floats.json["data"]?.arrayValue ?? []
                #expect(vectors.count == 2)
                let first = vectors.first?["embedding"]?.arrayValue ?? []
                #expect(!first.isEmpty)
                let base64 = try await Self.send(gw.httpBase + "/v1/embeddings", body: ["model": "openclaw", "input": "a", "encoding_format": "base64"])
                let bytes = try #require(Data(base64Encoded: base64.json["data"]?[0]?["embedding"]?.stringValue ?? ""))
                #expect(bytes.count == first.count * 4)

                let models = try await Self.send(gw.httpBase + "/v1/models", method: .GET)
                let ids = models.json["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                #expect(ids.starts(with: ["openclaw", "openclaw/default", "openclaw/main"]))
                #expect(ids.contains("local/m1"))
                #expect(try await Self.send(gw.httpBase + "/v1/models/openclaw/main", method: .GET).json["id"] == "openclaw/main")
                #expect(try await Self.send(gw.httpBase + "/v1/models/nope", method: .GET).status == 404)
            }
        }
    }

    @Test func badRequestsGetOpenAIShapedErrors() async throws {
        try await UpstreamServer.with { upstream in
            upstream.script(model: "m1", [.status(429, message: "slow"), .status(429, message: "slow"), .status(429, message: "slow")])
            try await withGateway({ config, _ in Self.configure(&config, upstream) }) { gw in
                let url = gw.httpBase + "/v1/chat/completions"
                let message: JSONValue = [["role": "user", "content": "x"]]
                let cases: [(Answer, Int, String)] = [
                    (try await Self.send(url, body: ["model": "openclaw", "messages": message], token: nil), 401, "Unauthorized"),
                    (try await Self.send(url, body: ["model": "openclaw", "messages": message], token: "wrong"), 401, "Unauthorized"),
                    (try await Self.send(url, body: ["model": "openclaw/ghost", "messages": message]), 404, "no agent \"ghost\""),
                    (try await Self.send(url, body: ["model": "gpt-9", "messages": message]), 404, "unknown model"),
                    (try await Self.send(url, body: ["model": "openclaw"]), 400, "messages is required"),
                    (try await Self.send(url, raw: "{not json"), 400, "not valid JSON"),
                    // Bodies above 256 KiB are parsed off the connection's event loop: same answers.
                    (try await Self.send(url, body: ["model": "openclaw", "padding": .string(String(repeating: "p", count: 300_000))]), 400, "messages is required"),
                    (try await Self.send(url, raw: "{\"model\": \"" + String(repeating: "p", count: 300_000)), 400, "not valid JSON"),
                    (try await Self.send(url, body: ["model": "openclaw", "messages": message, "temperature": 7]), 400, "temperature"),
                    (try await Self.send(url, body: ["model": "openclaw", "messages": [["role": "user", "content": [["type": "image_url"]]]]]), 400, "not supported"),
                    (try await Self.send(url, method: .GET), 405, "method not allowed"),
                    (try await Self.send(url, raw: String(repeating: "x", count: 21 * 1024 * 1024)), 413, "larger than"),
                    (try await Self.send(url, body: ["model": "openclaw", "messages": message]), 429, "slow"),
                    (try await Self.send(gw.httpBase + "/v1/embeddings", body: ["model": "openclaw"]), 400, "input is required"),
                ]
                for (answer, status, fragment) in cases {
                    #expect(answer.status == status, "\(answer.text)")
                    #expect(answer.json["error"]?["message"]?.stringValue?.contains(fragment) == true, "\(answer.text)")
                    #expect(answer.json["error"]?["type"]?.stringValue != nil)
                }
            }
        }
    }

    @Test func endpointsAreOffByDefault() async throws {
        try await withGateway { (gw: TestGateway) async throws -> Void in
            let chat = try await Self.send(gw.httpBase + "/v1/chat/completions", body: ["model": "openclaw"])
            #expect(chat.status == 404)
            let models = try await Self.send(gw.httpBase + "/v1/models", method: .GET)
            #expect(models.status == 404)
            let hooks = try await Self.send(gw.httpBase + "/hooks/wake", body: ["text": "x"])
            #expect(hooks.status == 404)
        }
    }

    @Test func toolsInvokeHonoursTheDenyRules() async throws {
        try await withGateway({ config, _ in config.agents.toolsDeny = ["mesh_discover"] }) { gw in
            let url = gw.httpBase + "/tools/invoke"
            let list = try await Self.send(url, body: ["tool": "mesh_files_list"])
            #expect(list.status == 200)
            #expect(list.json["ok"] == true)
            #expect(list.json["result"]?["files"] == [])
            #expect(try await Self.send(url, body: ["tool": "mesh_files_write", "args": ["key": "k", "content": "c"]]).status == 404)
            #expect(try await Self.send(url, body: ["tool": "mesh_discover"]).status == 404)
            #expect(try await Self.send(url, body: ["tool": "nope"]).json["ok"] == false)
            #expect(try await Self.send(url, body: ["tool": "mesh_files_read", "args": ["key": "missing"]]).status == 400)
            #expect(try await Self.send(url, body: ["tool": "mesh_files_list"], token: "bad").status == 401)
            #expect(try await Self.send(url, body: ["args": [:]]).status == 400)
            #expect(try await Self.send(url, method: .GET).status == 405)
        }
        try await withGateway({ config, _ in config.agents.toolsAllow = ["mesh_files_write"] }) { gw in
            let write = try await Self.send(gw.httpBase + "/tools/invoke", body: ["tool": "mesh_files_write", "args": ["key": "notes", "content": "hello"]])
            #expect(write.status == 200)
            #expect(write.json["result"]?["version"] == 1)
        }
    }

    @Test func hooksNeedTheirTokenInAHeader() async throws {
        try await UpstreamServer.with { upstream in
            try await withGateway({ config, _ in
                HostedAgentTests.configure(&config, upstream)
                config.agents.hooks.enabled = true
                config.agents.hooks.token = Secret("hook-secret")
            }) { gw in
                let base = gw.httpBase + "/hooks"
                #expect(try await Self.send(base + "/wake", body: ["text": "ping"], token: nil).status == 401)
                #expect(try await Self.send(base + "/wake?token=hook-secret", body: ["text": "ping"], token: nil).status == 400)
                let wake = try await Self.send(base + "/wake", body: ["text": "ping", "mode": "next-heartbeat"], token: "hook-secret")
                #expect(wake.status == 200)
                #expect(wake.json["mode"] == "next-heartbeat")
                let agent = try await Self.send(
                    base + "/agent", body: ["message": "from a hook"], token: nil, headers: [("X-OpenClaw-Token", "hook-secret"), ("Idempotency-Key", "h1")]
                )
                #expect(agent.status == 200)
                #expect(agent.json["runId"] == "hook-h1")
                #expect(try await Self.send(base + "/other", body: [:], token: "hook-secret").status == 404)
                #expect(try await Self.send(base + "/agent", body: [:], token: "hook-secret").status == 400)
                #expect(try await Self.send(base + "/wake", method: .GET, token: "hook-secret").status == 405)
                try await connect(gw.adminOptions()) { conn in
                    let waited = try await conn.call("agent.wait", params: ["runId": "hook-h1", "timeoutMs": 5000])
                    #expect(waited["status"] == "ok")
                }
            }
        }
    }
}
