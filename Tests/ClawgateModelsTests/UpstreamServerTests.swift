import AsyncHTTPClient
import ClawgateProtocol
import ClawgateUpstream
import Foundation
import NIOCore
import Testing

/// The scripted upstream speaks the providers' wire formats exactly; these tests pin the shapes
/// the provider and gateway suites rely on.
///
/// Closures stay outside `#expect` / `#require` arguments: with Swift 6.3 a closure written inside
/// a macro argument was seen to be mixed up with a later closure of the same function (a
/// `filter` ran the predicate of an earlier `#require(events.first { … })`).
@Suite("UpstreamServer")
struct UpstreamServerTests {
    // MARK: Auth and routing

    @Test func authFailuresUseEachAPIsErrorShape() async throws {
        try await UpstreamServer.with(apiKey: "sk-test") { server in
            let chat = server.openAIBaseURL + "/chat/completions"
            let body = #"{"model":"test-model","messages":[{"role":"user","content":"hi"}]}"#

            let missing = try await call(chat, body)
            #expect(missing.status == 401)
            #expect(missing.json?["error"]?["message"]?.stringValue?.isEmpty == false)
            #expect(missing.json?["error"]?["type"]?.stringValue == "invalid_request_error")

            let wrong = try await call(chat, body, headers: ["authorization": "Bearer nope"])
            #expect(wrong.status == 401)
            #expect(wrong.json?["error"]?["code"]?.stringValue == "invalid_api_key")

            let right = try await call(chat, body, headers: ["authorization": "Bearer sk-test"])
            #expect(right.status == 200)

            let messages = server.anthropicBaseURL + "/v1/messages"
            let anthropicBody = #"{"model":"test-model","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}"#
            let badKey = try await call(messages, anthropicBody, headers: ["x-api-key": "nope", "anthropic-version": "2023-06-01"])
            #expect(badKey.status == 401)
            #expect(badKey.json?["type"]?.stringValue == "error")
            #expect(badKey.json?["error"]?["type"]?.stringValue == "authentication_error")

            let noVersion = try await call(messages, anthropicBody, headers: ["x-api-key": "sk-test"])
            #expect(noVersion.status == 400)
            #expect(noVersion.json?["error"]?["type"]?.stringValue == "invalid_request_error")

            let ok = try await call(messages, anthropicBody, headers: ["x-api-key": "sk-test", "anthropic-version": "2023-06-01"])
            #expect(ok.status == 200)

            // Anthropic's current SDKs send the key as a bearer token; the API takes that too.
            let bearer = try await call(messages, anthropicBody, headers: ["authorization": "Bearer sk-test", "anthropic-version": "2023-06-01"])
            #expect(bearer.status == 200)
            let badBearer = try await call(messages, anthropicBody, headers: ["authorization": "Bearer nope", "anthropic-version": "2023-06-01"])
            #expect(badBearer.status == 401)

            #expect(server.requests.count == 8)
            #expect(server.requests(path: "/v1/messages").count == 5)
            #expect(server.requests.first?.headers["authorization"] == nil)
            #expect(server.requests(path: "/v1/messages")[2].headers["x-api-key"] == "sk-test")
        }
    }

    @Test func unknownPathWrongMethodAndBadJSON() async throws {
        try await UpstreamServer.with { server in
            let notFound = try await call(server.openAIBaseURL + "/nope", "{}")
            #expect(notFound.status == 404)
            #expect(notFound.json?["error"]?["message"]?.stringValue != nil)

            let wrongMethod = try await call(server.openAIBaseURL + "/chat/completions", nil, get: true)
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.json?["error"]?["type"]?.stringValue == "invalid_request_error")

            let badJSON = try await call(server.openAIBaseURL + "/chat/completions", "{not json")
            #expect(badJSON.status == 400)
            #expect(badJSON.json?["error"] != nil)

            let anthropicBad = try await call(server.anthropicBaseURL + "/v1/messages", "[", headers: ["anthropic-version": "2023-06-01"])
            #expect(anthropicBad.status == 400)
            #expect(anthropicBad.json?["type"]?.stringValue == "error")

            let noMaxTokens = try await call(
                server.anthropicBaseURL + "/v1/messages", #"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#,
                headers: ["anthropic-version": "2023-06-01"]
            )
            #expect(noMaxTokens.status == 400)
            #expect(noMaxTokens.json?["error"]?["type"]?.stringValue == "invalid_request_error")
        }
    }

    @Test func modelsListsScriptedModels() async throws {
        try await UpstreamServer.with { server in
            server.script(model: "gpt-x", [.reply("hi")])
            let list = try await call(server.openAIBaseURL + "/models", nil, get: true)
            #expect(list.status == 200)
            #expect(list.json?["object"]?.stringValue == "list")
            let ids = list.json?["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
            #expect(ids == ["test-model", "gpt-x"])
            #expect(list.json?["data"]?.arrayValue?.first?["owned_by"]?.stringValue == "upstream")
        }
    }

    // MARK: Chat Completions

    @Test func chatEchoNonStream() async throws {
        try await UpstreamServer.with { server in
            let response = try await call(
                server.openAIBaseURL + "/chat/completions",
                #"{"model":"test-model","messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"hello world"}]}]}"#
            )
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "application/json")
            let json = try #require(response.json)
            #expect(json["object"]?.stringValue == "chat.completion")
            #expect(json["id"]?.stringValue?.hasPrefix("chatcmpl-") == true)
            #expect(json["model"]?.stringValue == "test-model")
            let choice = try #require(json["choices"]?.arrayValue?.first)
            #expect(choice["message"]?["role"]?.stringValue == "assistant")
            #expect(choice["message"]?["content"]?.stringValue == "echo: hello world")
            #expect(choice["finish_reason"]?.stringValue == "stop")
            #expect(json["usage"]?["prompt_tokens"]?.intValue == 4)
            #expect(json["usage"]?["completion_tokens"]?.intValue == 3)
            #expect(json["usage"]?["total_tokens"]?.intValue == 7)
            #expect(server.requests(path: "/v1/chat/completions").first?.body?["model"]?.stringValue == "test-model")
            #expect(server.inFlightCount == 0)
        }
    }

    @Test func chatEchoStreamWithUsage() async throws {
        try await UpstreamServer.with { server in
            let response = try await call(
                server.openAIBaseURL + "/chat/completions",
                #"{"model":"test-model","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"one two three"}]}"#
            )
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "text/event-stream")
            let events = SSE.parse(response.text)
            #expect(events.last?.data == "[DONE]")
            let chunks = events.dropLast().compactMap(\.json)
            #expect(chunks.count == events.count - 1)
            let allChunks = chunks.allSatisfy { $0["object"]?.stringValue == "chat.completion.chunk" }
            #expect(allChunks)
            let first = try #require(chunks.first?["choices"]?.arrayValue?.first?["delta"])
            #expect(first["role"]?.stringValue == "assistant")
            #expect(first["content"]?.stringValue == "")
            let deltas = chunks.compactMap { $0["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue }
            #expect(deltas.count >= 4)
            #expect(deltas.joined() == "echo: one two three")
            let finish = chunks.compactMap { $0["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue }
            #expect(finish == ["stop"])
            let usage = try #require(chunks.last)
            #expect(usage["choices"]?.arrayValue?.isEmpty == true)
            #expect(usage["usage"]?["prompt_tokens"]?.intValue == 3)
            #expect(usage["usage"]?["completion_tokens"]?.intValue == 4)

            // Without include_usage there is no usage chunk.
            let plain = try await call(
                server.openAIBaseURL + "/chat/completions",
                #"{"model":"test-model","stream":true,"messages":[{"role":"user","content":"x"}]}"#
            )
            let plainChunks = SSE.parse(plain.text).dropLast().compactMap(\.json)
            let allHaveChoices = plainChunks.allSatisfy { $0["choices"]?.arrayValue?.isEmpty == false }
            let noneHasUsage = plainChunks.allSatisfy { $0["usage"] == nil }
            #expect(allHaveChoices)
            #expect(noneHasUsage)
        }
    }

    @Test func scripted429ThenEcho() async throws {
        try await UpstreamServer.with { server in
            server.script(model: "m", [.status(429, message: "slow down")])
            let url = server.openAIBaseURL + "/chat/completions"
            let body = #"{"model":"m","messages":[{"role":"user","content":"again"}]}"#
            let limited = try await call(url, body)
            #expect(limited.status == 429)
            #expect(limited.headers["retry-after"] == "0")
            #expect(limited.json?["error"]?["message"]?.stringValue == "slow down")
            #expect(limited.json?["error"]?["code"]?.stringValue == "rate_limit_exceeded")
            let echoed = try await call(url, body)
            #expect(echoed.status == 200)
            #expect(echoed.json?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue == "echo: again")

            server.script(model: "m", [.status(529, message: "busy"), .contextLengthExceeded])
            let messages = server.anthropicBaseURL + "/v1/messages"
            let anthropicBody = #"{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"x"}]}"#
            let overloaded = try await call(messages, anthropicBody, headers: ["anthropic-version": "2023-06-01"])
            #expect(overloaded.status == 529)
            #expect(overloaded.json?["error"]?["type"]?.stringValue == "overloaded_error")
            let tooLong = try await call(messages, anthropicBody, headers: ["anthropic-version": "2023-06-01"])
            #expect(tooLong.status == 400)
            #expect(tooLong.json?["error"]?["message"]?.stringValue?.hasPrefix("prompt is too long") == true)
        }
    }

    @Test func chatToolCallShapes() async throws {
        try await UpstreamServer.with { server in
            let arguments = #"{"city": "Paris"}"#
            server.script(model: "m", [.toolCall(name: "weather", arguments: arguments), .toolCall(name: "weather", arguments: arguments)])
            let url = server.openAIBaseURL + "/chat/completions"
            let body = #"{"model":"m","messages":[{"role":"user","content":"weather?"}],"tools":[{"type":"function","function":{"name":"weather","parameters":{}}}]}"#

            let plain = try await call(url, body)
            let choice = try #require(plain.json?["choices"]?.arrayValue?.first)
            #expect(choice["finish_reason"]?.stringValue == "tool_calls")
            let toolCall = try #require(choice["message"]?["tool_calls"]?.arrayValue?.first)
            #expect(toolCall["id"]?.stringValue?.hasPrefix("call_") == true)
            #expect(toolCall["type"]?.stringValue == "function")
            #expect(toolCall["function"]?["name"]?.stringValue == "weather")
            #expect(toolCall["function"]?["arguments"]?.stringValue == arguments)
            #expect(plain.json?["usage"]?["completion_tokens"]?.intValue == 3)

            let streamed = try await call(url, body.replacingOccurrences(of: #""model":"m""#, with: #""model":"m","stream":true"#))
            let chunks = SSE.parse(streamed.text).dropLast().compactMap(\.json)
            let calls = chunks.compactMap { $0["choices"]?.arrayValue?.first?["delta"]?["tool_calls"]?.arrayValue?.first }
            let header = try #require(calls.first)
            #expect(header["index"]?.intValue == 0)
            #expect(header["id"]?.stringValue?.hasPrefix("call_") == true)
            #expect(header["type"]?.stringValue == "function")
            #expect(header["function"]?["name"]?.stringValue == "weather")
            #expect(header["function"]?["arguments"]?.stringValue == "")
            let fragments = calls.dropFirst().compactMap { $0["function"]?["arguments"]?.stringValue }
            #expect(fragments.count >= 2)
            #expect(fragments.joined() == arguments)
            let finishReasons = chunks.compactMap { $0["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue }
            #expect(finishReasons == ["tool_calls"])
        }
    }

    @Test func replyWithToolResultAndRefusal() async throws {
        try await UpstreamServer.with { server in
            server.script(model: "m", [.replyWithToolResult, .refusal])
            let url = server.openAIBaseURL + "/chat/completions"
            let body = #"""
                {"model":"m","messages":[{"role":"user","content":"hi"},
                {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]},
                {"role":"tool","tool_call_id":"call_1","content":"sunny 21C"}]}
                """#
            let result = try await call(url, body)
            #expect(result.json?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue == "tool result: sunny 21C")
            let refusal = try await call(url, body)
            let choice = try #require(refusal.json?["choices"]?.arrayValue?.first)
            #expect(choice["finish_reason"]?.stringValue == "content_filter")
            #expect(choice["message"]?["refusal"]?.stringValue?.isEmpty == false)
        }
    }

    // MARK: Anthropic

    @Test func anthropicStreamingToolUse() async throws {
        try await UpstreamServer.with { server in
            let arguments = #"{"query":"swift testing"}"#
            server.script(model: "claude", [.toolCall(name: "search", arguments: arguments), .echo])
            let url = server.anthropicBaseURL + "/v1/messages"
            let body = #"{"model":"claude","max_tokens":256,"stream":true,"system":"sys prompt","messages":[{"role":"user","content":[{"type":"text","text":"find it"}]}],"tools":[{"name":"search","input_schema":{"type":"object"}}]}"#
            let response = try await call(url, body, headers: ["anthropic-version": "2023-06-01"])
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "text/event-stream")
            let events = SSE.parse(response.text)
            let typesMatchNames = events.allSatisfy { $0.event == $0.json?["type"]?.stringValue }
            #expect(typesMatchNames)
            let names = events.compactMap(\.event)
            #expect(names.first == "message_start")
            #expect(Array(names.prefix(3)) == ["message_start", "content_block_start", "ping"])
            #expect(Array(names.suffix(3)) == ["content_block_stop", "message_delta", "message_stop"])
            #expect(events.first?.json?["message"]?["usage"]?["input_tokens"]?.intValue == 4)
            let block = try #require(events[1].json?["content_block"])
            #expect(block["type"]?.stringValue == "tool_use")
            #expect(block["id"]?.stringValue?.hasPrefix("toolu_") == true)
            #expect(block["name"]?.stringValue == "search")
            let fragments = events.filter { $0.event == "content_block_delta" }.compactMap { event -> String? in
                guard event.json?["delta"]?["type"]?.stringValue == "input_json_delta" else { return nil }
                return event.json?["delta"]?["partial_json"]?.stringValue
            }
            #expect(fragments.count >= 2)
            #expect(fragments.joined() == arguments)
            let messageDelta = events.first { $0.event == "message_delta" }?.json
            let delta = try #require(messageDelta)
            #expect(delta["delta"]?["stop_reason"]?.stringValue == "tool_use")
            #expect(delta["usage"]?["output_tokens"]?.intValue == 3)

            // Non-streaming echo: text block, end_turn, usage.
            let plain = try await call(
                url, body.replacingOccurrences(of: #""stream":true,"#, with: ""), headers: ["anthropic-version": "2023-06-01"]
            )
            let json = try #require(plain.json)
            #expect(json["type"]?.stringValue == "message")
            #expect(json["id"]?.stringValue?.hasPrefix("msg_") == true)
            #expect(json["content"]?.arrayValue?.first?["text"]?.stringValue == "echo: find it")
            #expect(json["stop_reason"]?.stringValue == "end_turn")
            #expect(json["stop_sequence"] == .null)
            #expect(json["usage"]?["input_tokens"]?.intValue == 4)
            #expect(json["usage"]?["output_tokens"]?.intValue == 3)
        }
    }

    // MARK: Responses

    @Test func responsesStreamEventOrder() async throws {
        try await UpstreamServer.with { server in
            let url = server.openAIBaseURL + "/responses"
            let response = try await call(
                url, #"{"model":"test-model","stream":true,"instructions":"be nice","input":[{"role":"user","content":[{"type":"input_text","text":"hello there"}]}]}"#
            )
            #expect(response.status == 200)
            let events = SSE.parse(response.text)
            let names = events.compactMap(\.event)
            let typesMatchNames = events.allSatisfy { $0.event == $0.json?["type"]?.stringValue }
            #expect(typesMatchNames)
            let order = names.filter { $0 != "response.output_text.delta" }
            #expect(
                order == [
                    "response.created", "response.output_item.added", "response.content_part.added", "response.output_text.done",
                    "response.content_part.done", "response.output_item.done", "response.completed",
                ]
            )
            #expect(names.firstIndex(of: "response.output_text.delta") == 3)
            let sequenceNumbers = events.compactMap { $0.json?["sequence_number"]?.intValue }
            #expect(sequenceNumbers == Array(0..<events.count))
            let deltas = events.filter { $0.event == "response.output_text.delta" }.compactMap { $0.json?["delta"]?.stringValue }
            #expect(deltas.count == 3)
            #expect(deltas.joined() == "echo: hello there")
            let completed = try #require(events.last?.json?["response"])
            #expect(completed["status"]?.stringValue == "completed")
            #expect(completed["output"]?.arrayValue?.first?["content"]?.arrayValue?.first?["text"]?.stringValue == "echo: hello there")
            #expect(completed["usage"]?["input_tokens"]?.intValue == 4)
            #expect(completed["usage"]?["output_tokens"]?.intValue == 3)
            #expect(completed["usage"]?["total_tokens"]?.intValue == 7)

            // A function call, non-streaming, from a string input.
            server.script(model: "m", [.toolCall(name: "lookup", arguments: #"{"id":7}"#)])
            let functionCall = try await call(url, #"{"model":"m","input":"look it up"}"#)
            let item = try #require(functionCall.json?["output"]?.arrayValue?.first)
            #expect(functionCall.json?["object"]?.stringValue == "response")
            #expect(item["type"]?.stringValue == "function_call")
            #expect(item["call_id"]?.stringValue?.hasPrefix("call_") == true)
            #expect(item["name"]?.stringValue == "lookup")
            #expect(item["arguments"]?.stringValue == #"{"id":7}"#)
        }
    }

    // MARK: Embeddings

    @Test func embeddingsFloatAndBase64Agree() async throws {
        try await UpstreamServer.with { server in
            let url = server.openAIBaseURL + "/embeddings"
            let floats = try await call(url, #"{"model":"embed","input":["alpha beta","gamma"]}"#)
            #expect(floats.status == 200)
            let data = try #require(floats.json?["data"]?.arrayValue)
            #expect(data.count == 2)
            #expect(floats.json?["usage"]?["prompt_tokens"]?.intValue == 3)
            let firstValues = try #require(data.first?["embedding"]?.arrayValue)
            let first = firstValues.compactMap { value -> Float? in
                switch value {
                case .double(let number): Float(number)
                case .int(let number): Float(number)
                default: nil
                }
            }
            #expect(first.count == 8)
            let inRange = first.allSatisfy { (-1...1).contains($0) }
            #expect(inRange)

            let encoded = try await call(url, #"{"model":"embed","input":"alpha beta","encoding_format":"base64"}"#)
            let base64 = try #require(encoded.json?["data"]?.arrayValue?.first?["embedding"]?.stringValue)
            let bytes = try #require(Data(base64Encoded: base64))
            #expect(bytes.count == 32)
            let decoded = stride(from: 0, to: bytes.count, by: 4).map { offset in
                Float(bitPattern: bytes[offset..<offset + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            }
            #expect(decoded == first)

            let wide = try await call(url, #"{"model":"embed","input":"alpha beta","dimensions":16}"#)
            #expect(wide.json?["data"]?.arrayValue?.first?["embedding"]?.arrayValue?.count == 16)
        }
    }

    // MARK: Hangs and cancellation

    @Test func hangIsCancelledWhenTheClientLeaves() async throws {
        try await UpstreamServer.with { server in
            server.script(model: "m", [.hang, .hangAfterFirstChunk])
            let url = server.openAIBaseURL + "/chat/completions"
            let hanging = Task {
                try await call(url, #"{"model":"m","messages":[{"role":"user","content":"x"}]}"#)
            }
            let started = await eventually { server.inFlightCount == 1 }
            #expect(started)
            try await Task.sleep(for: .milliseconds(100))
            #expect(server.cancelledCount == 0)
            let cancelledAt = ContinuousClock.now
            hanging.cancel()
            _ = try? await hanging.value
            let cancelled = await eventually { server.cancelledCount == 1 && server.inFlightCount == 0 }
            #expect(cancelled)
            #expect(ContinuousClock.now - cancelledAt < .seconds(1))

            // Streaming: the first chunk arrives, then nothing until the client leaves.
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.body = .bytes(ByteBuffer(string: #"{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}"#))
            let partial = Task { () -> (received: String, inFlightWhileReading: Int) in
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                var received = ""
                for try await buffer in response.body {
                    received += String(buffer: buffer)
                    // Counted while the body is still being read: once this task ends the client
                    // closes the connection, and the server may notice before the test looks.
                    if received.contains(#""content":"partial""#) { return (received, server.inFlightCount) }
                }
                return (received, server.inFlightCount)
            }
            let (received, inFlightWhileReading) = try await partial.value
            #expect(received.contains(#""content":"partial""#))
            #expect(inFlightWhileReading == 1)
            // Dropping the response body (the task ended) makes the client close the connection.
            let cancelledStream = await eventually { server.cancelledCount == 2 && server.inFlightCount == 0 }
            #expect(cancelledStream)
        }
    }

    @Test func slowStreamIsPacedAndShutdownEndsHangs() async throws {
        let server = try await UpstreamServer.start()
        server.script(model: "m", [.slow("a b c d", chunkDelayMs: 50), .hang])
        let url = server.openAIBaseURL + "/chat/completions"
        let started = ContinuousClock.now
        let slow = try await call(url, #"{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}"#)
        #expect(ContinuousClock.now - started >= .milliseconds(190))
        let deltas = SSE.parse(slow.text).dropLast().compactMap(\.json).compactMap {
            $0["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue
        }
        #expect(deltas == ["", "a ", "b ", "c ", "d"])

        let hanging = Task { try await call(url, #"{"model":"m","messages":[{"role":"user","content":"x"}]}"#) }
        let hangStarted = await eventually { server.inFlightCount == 1 }
        #expect(hangStarted)
        let shutdownStarted = ContinuousClock.now
        await server.shutdown()
        #expect(ContinuousClock.now - shutdownStarted < .seconds(5))
        #expect(server.inFlightCount == 0)
        #expect(server.cancelledCount == 1)
        #expect((try? await hanging.value)?.status != 200)
        await server.shutdown()
    }

    @Test func anthropicHangAfterFirstChunkAndTruncation() async throws {
        try await UpstreamServer.with { server in
            server.script(model: "claude", [.hangAfterFirstChunk, .reply("one two three four")])
            let url = server.anthropicBaseURL + "/v1/messages"
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "anthropic-version", value: "2023-06-01")
            request.body = .bytes(
                ByteBuffer(string: #"{"model":"claude","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"x"}]}"#)
            )
            let partial = Task {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                var received = ""
                for try await buffer in response.body {
                    received += String(buffer: buffer)
                    if received.contains(#""text":"partial""#) { return received }
                }
                return received
            }
            let received = try await partial.value
            #expect(received.hasPrefix("event: message_start\n"))
            #expect(received.contains(#""type":"text_delta","text":"partial""#))
            #expect(!received.contains("message_stop"))
            let cancelled = await eventually { server.cancelledCount == 1 && server.inFlightCount == 0 }
            #expect(cancelled)

            // max_tokens cuts the reply at that many words, with stop_reason max_tokens.
            let cut = try await call(
                url, #"{"model":"claude","max_tokens":2,"messages":[{"role":"user","content":"x"}]}"#,
                headers: ["anthropic-version": "2023-06-01"]
            )
            #expect(cut.json?["content"]?.arrayValue?.first?["text"]?.stringValue == "one two ")
            #expect(cut.json?["stop_reason"]?.stringValue == "max_tokens")
            #expect(cut.json?["usage"]?["output_tokens"]?.intValue == 2)
        }
    }

    @Test func slowNonStreamWaitsThenAnswers() async throws {
        try await UpstreamServer.with { server in
            server.script(model: "m", [.slow("x y", chunkDelayMs: 60)])
            let started = ContinuousClock.now
            let response = try await call(server.openAIBaseURL + "/chat/completions", #"{"model":"m","messages":[{"role":"user","content":"q"}]}"#)
            #expect(ContinuousClock.now - started >= .milliseconds(110))
            #expect(response.json?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue == "x y")
            #expect(server.inFlightCount == 0)
            #expect(server.cancelledCount == 0)
        }
    }

    @Test func responsesRefusalStream() async throws {
        try await UpstreamServer.with { server in
            server.script(model: "m", [.refusal])
            let response = try await call(server.openAIBaseURL + "/responses", #"{"model":"m","stream":true,"input":"do something bad"}"#)
            let events = SSE.parse(response.text)
            let added = events.first { $0.event == "response.content_part.added" }?.json
            #expect(added?["part"]?["type"]?.stringValue == "refusal")
            let deltas = events.filter { $0.event == "response.refusal.delta" }.compactMap { $0.json?["delta"]?.stringValue }
            #expect(deltas.count == 9)
            let part = events.last?.json?["response"]?["output"]?.arrayValue?.first?["content"]?.arrayValue?.first
            #expect(part?["type"]?.stringValue == "refusal")
            #expect(part?["refusal"]?.stringValue == deltas.joined())
        }
    }

    /// Many concurrent echo requests over a few connections: every one answered and recorded.
    @Test func concurrentEchoLoad() async throws {
        try await UpstreamServer.with { server in
            let url = server.openAIBaseURL + "/chat/completions"
            let total = 400
            let ok = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<total {
                    group.addTask {
                        let stream = index % 2 == 0
                        let body = #"{"model":"test-model","stream":\#(stream),"messages":[{"role":"user","content":"n \#(index)"}]}"#
                        let response = try await call(url, body)
                        if stream { return SSE.parse(response.text).last?.data == "[DONE]" && response.text.contains(#""content":"\#(index)""#) }
                        return response.json?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue == "echo: n \(index)"
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(ok == total)
            #expect(server.requests.count == total)
            #expect(server.inFlightCount == 0)
        }
    }

    @Test func startFailsWhenThePortIsTaken() async throws {
        try await UpstreamServer.with { server in
            await #expect(throws: (any Error).self) {
                let second = try await UpstreamServer.start(port: server.port)
                await second.shutdown()
            }
        }
    }
}

// MARK: Helpers

private struct Reply: Sendable {
    var status: Int
    var headers: [String: String]
    var text: String
    var json: JSONValue? { try? JSONCoding.decode(JSONValue.self, from: Data(text.utf8)) }
}

private func call(
    _ url: String, _ body: String?, get: Bool = false, headers: [String: String] = [:]
) async throws -> Reply {
    var request = HTTPClientRequest(url: url)
    request.method = get ? .GET : .POST
    if let body {
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
    }
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    let buffer = try await response.body.collect(upTo: 1 << 24)
    var responseHeaders: [String: String] = [:]
    for header in response.headers { responseHeaders[header.name.lowercased()] = header.value }
    return Reply(status: Int(response.status.code), headers: responseHeaders, text: String(buffer: buffer))
}


/// Minimal server-sent-events parsing: `event:` and `data:` lines, events split by blank lines.
private enum SSE {
    struct Event {
        var event: String?
        var data: String
        var json: JSONValue? { try? JSONCoding.decode(JSONValue.self, from: Data(data.utf8)) }
    }

    static func parse(_ text: String) -> [Event] {
        text.components(separatedBy: "\n\n").compactMap { block in
            var event: String?
            var data: [String] = []
            for line in block.split(separator: "\n", omittingEmptySubsequences: true) {
                if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data.append(String(line.dropFirst(6))) }
            }
            return data.isEmpty ? nil : Event(event: event, data: data.joined(separator: "\n"))
        }
    }
}
