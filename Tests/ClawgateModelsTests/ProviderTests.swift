import AsyncHTTPClient
import ClawgateProtocol
import ClawgateUpstream
import Foundation
import Logging
import NIOCore
import Testing

@testable import ClawgateModels

// MARK: - End to end against the scripted upstream

/// Every provider against `UpstreamServer`, over real sockets: streaming, tool round trips,
/// usage, error kinds, retries, fallback, timeouts and cancellation.
@Suite("Providers end to end")
struct ProviderEndToEndTests {
    static let key = "sk-test-0123456789"

    // MARK: Streaming

    @Test(arguments: ModelAPI.allCases)
    func streamsTextWithUsageAndOneFinishLast(api: ModelAPI) async throws {
        try await withUpstream { server, client in
            server.script(model: "m", [.reply("hello there my friend")])
            let provider = ProviderFactory.make(config(api, server), httpClient: client, logger: quietLogger)
            let request = ChatRequest(
                model: "m", messages: [ChatMessage(role: .system, text: "be brief"), ChatMessage(role: .user, text: "say hello please")],
                maxTokens: 100, temperature: 0.5)
            let events = try await collect(try await provider.streamChat(request))

            let deltas = events.compactMap { event -> String? in
                if case .textDelta(let text) = event { return text }
                return nil
            }
            #expect(deltas.count > 1, "the answer should arrive in several deltas")
            #expect(deltas.joined() == "hello there my friend")
            #expect(events.filter { if case .finish = $0 { true } else { false } }.count == 1)
            #expect(events.last == .finish(.stop))
            #expect(events.dropLast().last == .usage(TokenUsage(input: 5, output: 4)))

            let recorded = try #require(server.requests.last)
            #expect(recorded.body?["stream"] == true)
            switch api {
            case .openAICompletions:
                #expect(recorded.path == "/v1/chat/completions")
                #expect(recorded.headers["authorization"] == "Bearer \(Self.key)")
                #expect(recorded.body?["stream_options"]?["include_usage"] == true)
                #expect(recorded.body?["max_tokens"] == 100)
                #expect(recorded.body?["temperature"] == 0.5)
                #expect(recorded.body?["messages"]?.arrayValue?.first?["role"] == "system")
            case .openAIResponses:
                #expect(recorded.path == "/v1/responses")
                #expect(recorded.body?["instructions"] == "be brief")
                #expect(recorded.body?["max_output_tokens"] == 100)
                #expect(recorded.body?["input"]?.arrayValue?.count == 1)
            case .anthropicMessages:
                #expect(recorded.path == "/v1/messages")
                #expect(recorded.headers["x-api-key"] == Self.key)
                #expect(recorded.headers["anthropic-version"] == "2023-06-01")
                #expect(recorded.headers["authorization"] == nil)
                #expect(recorded.headers["content-type"] == "application/json")
                #expect(recorded.body?["system"] == "be brief")
                #expect(recorded.body?["max_tokens"] == 100)
            }
        }
    }

    @Test(arguments: ModelAPI.allCases)
    func toolCallRoundTrip(api: ModelAPI) async throws {
        try await withUpstream { server, client in
            server.script(model: "m", [.toolCall(name: "get_weather", arguments: #"{"city":"Paris","days":2}"#), .replyWithToolResult])
            let provider = ProviderFactory.make(config(api, server), httpClient: client, logger: quietLogger)
            let tool = ToolDefinition(
                name: "get_weather", description: "Weather for a city",
                parameters: ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]])
            var messages = [ChatMessage(role: .user, text: "weather in Paris?")]

            let first = completion(try await collect(try await provider.streamChat(
                ChatRequest(model: "m", messages: messages, tools: [tool], toolChoice: .auto))))
            #expect(first.finishReason == .toolCalls)
            #expect(first.text.isEmpty)
            let call = try #require(first.toolCalls.first)
            #expect(first.toolCalls.count == 1)
            #expect(call.name == "get_weather")
            #expect(!call.id.isEmpty)
            let arguments = try JSONCoding.decode(JSONValue.self, from: Data(call.arguments.utf8))
            #expect(arguments == ["city": "Paris", "days": 2])

            let sentTools = try #require(server.requests.last?.body?["tools"]?.arrayValue)
            switch api {
            case .openAICompletions: #expect(sentTools.first?["function"]?["name"] == "get_weather")
            case .openAIResponses: #expect(sentTools.first?["name"] == "get_weather")
            case .anthropicMessages: #expect(sentTools.first?["input_schema"]?["type"] == "object")
            }

            messages.append(ChatMessage(role: .assistant, text: "", toolCalls: first.toolCalls))
            messages.append(ChatMessage(role: .tool, text: "sunny, 21C", toolCallId: call.id, name: call.name))
            let second = completion(try await collect(try await provider.streamChat(
                ChatRequest(model: "m", messages: messages, tools: [tool]))))
            #expect(second.text == "tool result: sunny, 21C")
            #expect(second.finishReason == .stop)
            #expect(second.toolCalls.isEmpty)

            let body = try #require(server.requests.last?.body)
            switch api {
            case .openAICompletions:
                let sent = try #require(body["messages"]?.arrayValue)
                #expect(sent.count == 3)
                #expect(sent[1]["tool_calls"]?.arrayValue?.first?["id"] == .string(call.id))
                #expect(sent[1]["content"] == .null)
                #expect(sent[2]["role"] == "tool")
                #expect(sent[2]["tool_call_id"] == .string(call.id))
            case .openAIResponses:
                let items = try #require(body["input"]?.arrayValue)
                #expect(items.count == 3)
                #expect(items[1]["type"] == "function_call")
                #expect(items[1]["call_id"] == .string(call.id))
                #expect(items[2]["type"] == "function_call_output")
                #expect(items[2]["output"] == "sunny, 21C")
            case .anthropicMessages:
                let sent = try #require(body["messages"]?.arrayValue)
                #expect(sent.count == 3)
                #expect(sent[1]["content"]?.arrayValue?.first?["type"] == "tool_use")
                #expect(sent[1]["content"]?.arrayValue?.first?["input"] == ["city": "Paris", "days": 2])
                #expect(sent[2]["role"] == "user")
                #expect(sent[2]["content"]?.arrayValue?.first?["tool_use_id"] == .string(call.id))
            }
        }
    }

    @Test(arguments: ModelAPI.allCases)
    func refusalIsTextFinishedAsContentFilter(api: ModelAPI) async throws {
        try await withUpstream { server, client in
            server.script(model: "m", [.refusal])
            let provider = ProviderFactory.make(config(api, server), httpClient: client, logger: quietLogger)
            let answer = completion(try await collect(try await provider.streamChat(
                ChatRequest(model: "m", messages: [ChatMessage(role: .user, text: "do something bad")]))))
            #expect(answer.text.contains("can't help"))
            #expect(answer.finishReason == .contentFilter)
        }
    }

    @Test(arguments: ModelAPI.allCases)
    func outputLimitFinishesWithLength(api: ModelAPI) async throws {
        try await withUpstream { server, client in
            server.script(model: "m", [.reply("one two three four five")])
            let provider = ProviderFactory.make(config(api, server), httpClient: client, logger: quietLogger)
            let answer = completion(try await collect(try await provider.streamChat(
                ChatRequest(model: "m", messages: [ChatMessage(role: .user, text: "count")], maxTokens: 2))))
            #expect(answer.text.trimmingCharacters(in: .whitespaces) == "one two")
            #expect(answer.finishReason == .length)
        }
    }

    // MARK: Error kinds

    @Test(arguments: ModelAPI.allCases)
    func wrongKeyIsAnAuthErrorWithoutTheKey(api: ModelAPI) async throws {
        try await withUpstream(apiKey: "sk-the-right-key") { server, client in
            let router = ModelRouter(
                providers: [config(api, server, key: "sk-a-wrong-key-42")], httpClient: client, retry: fastRetry,
                timeouts: fastTimeouts, logger: quietLogger)
            let error = await routedError(router, [ModelRef(provider: api.rawValue, model: "m")])
            #expect(error?.kind == .auth)
            #expect(error?.httpStatus == 401)
            #expect(error?.retryable == false)
            #expect(error?.message.contains("sk-a-wrong-key-42") == false)
            #expect(error?.description.contains("sk-a-wrong-key-42") == false)
            #expect(server.requests.count == 1, "auth errors are not retried")
        }
    }

    @Test(arguments: ModelAPI.allCases)
    func contextLengthIsItsOwnKindAndNotRetried(api: ModelAPI) async throws {
        try await withUpstream { server, client in
            server.script(model: "m", [.contextLengthExceeded])
            let router = ModelRouter(
                providers: [config(api, server)], httpClient: client, retry: fastRetry, timeouts: fastTimeouts, logger: quietLogger)
            let error = await routedError(router, [ModelRef(provider: api.rawValue, model: "m")])
            #expect(error?.kind == .contextLength)
            #expect(error?.httpStatus == 400)
            #expect(error?.retryable == false)
            #expect(server.requests.count == 1)
        }
    }

    // MARK: Retries, fallback, timeouts

    @Test(arguments: ModelAPI.allCases)
    func rateLimitIsRetried(api: ModelAPI) async throws {
        try await withUpstream { server, client in
            server.script(model: "m", [.status(429, message: "slow down"), .echo])
            let router = ModelRouter(
                providers: [config(api, server)], httpClient: client, retry: fastRetry, timeouts: fastTimeouts, logger: quietLogger)
            let ref = ModelRef(provider: api.rawValue, model: "m")
            let events = try await collect(router.streamChat(candidates: [ref], request: hello))

            let routing = events.filter { if case .chunk = $0 { false } else { true } }
            #expect(routing.count == 3)
            #expect(routing.first == .started(ref, attempt: 1))
            guard case .retrying(let retried, let error, let delay) = routing.dropFirst().first else {
                Issue.record("expected a retry, got \(routing)")
                return
            }
            #expect(retried == ref)
            #expect(error.kind == .rateLimit)
            #expect(error.httpStatus == 429)
            #expect(error.message == "slow down")
            #expect(delay <= fastRetry.maxBackoffMs)
            #expect(routing.last == .started(ref, attempt: 2))
            #expect(routedText(events) == "echo: hi there")
            #expect(server.requests.count == 2)
        }
    }

    @Test(arguments: ModelAPI.allCases)
    func serverErrorsOnPrimaryFallBackToSecondProvider(api: ModelAPI) async throws {
        try await withUpstream { server, client in
            server.script(model: "primary", Array(repeating: .status(500, message: "boom"), count: 3))
            let backup = ProviderConfig(
                id: "backup", baseURL: server.openAIBaseURL, apiKey: APIKey(Self.key), api: .openAICompletions,
                models: [ModelDefinition(id: "secondary")])
            let router = ModelRouter(
                providers: [config(api, server), backup], httpClient: client, retry: fastRetry, timeouts: fastTimeouts,
                logger: quietLogger)
            let primary = ModelRef(provider: api.rawValue, model: "primary")
            let secondary = ModelRef(provider: "backup", model: "secondary")

            let events = try await collect(router.streamChat(candidates: [primary, secondary], request: hello))
            let routing = events.filter { if case .chunk = $0 { false } else { true } }
            #expect(routing.count == 7)
            #expect(routing.first == .started(primary, attempt: 1))
            #expect(routing.filter { if case .retrying(primary, _, _) = $0 { true } else { false } }.count == 2)
            #expect(routing.contains(.started(primary, attempt: 3)))
            guard case .fallingBack(let from, let to, let error) = routing.dropLast().last else {
                Issue.record("expected a fallback, got \(routing)")
                return
            }
            #expect(from == primary && to == secondary)
            #expect(error.kind == .unknown && error.httpStatus == 500 && error.retryable)
            #expect(routing.last == .started(secondary, attempt: 1))
            #expect(routedText(events) == "echo: hi there")

            // The collected form says who answered.
            let (answer, servedBy) = try await router.complete(candidates: [primary, secondary], request: hello)
            #expect(servedBy == primary)  // the script is used up: the primary answers again
            #expect(answer.text == "echo: hi there")
            #expect(answer.usage == TokenUsage(input: 2, output: 3))
        }
    }

    @Test(arguments: ModelAPI.allCases)
    func firstTokenTimeoutCancelsAndRetries(api: ModelAPI) async throws {
        try await withUpstream { server, client in
            server.script(model: "m", [.hang, .echo])
            let router = ModelRouter(
                providers: [config(api, server)], httpClient: client, retry: fastRetry, timeouts: fastTimeouts, logger: quietLogger)
            let ref = ModelRef(provider: api.rawValue, model: "m")
            let started = ContinuousClock.now
            let events = try await collect(router.streamChat(candidates: [ref], request: hello))
            #expect(ContinuousClock.now - started < .seconds(5))

            let retries = events.compactMap { event -> ModelError? in
                if case .retrying(_, let error, _) = event { return error }
                return nil
            }
            #expect(retries.map(\.kind) == [.timeout])
            #expect(retries.first?.retryable == true)
            #expect(routedText(events) == "echo: hi there")
            #expect(await eventually { server.cancelledCount >= 1 }, "the hung request must have been cancelled")
        }
    }

    @Test(arguments: ModelAPI.allCases)
    func firstTokenTimeoutFallsBack(api: ModelAPI) async throws {
        try await withUpstream { server, client in
            server.script(model: "stuck", [.hang])
            let backup = ProviderConfig(id: "backup", baseURL: server.openAIBaseURL, apiKey: APIKey(Self.key), api: .openAICompletions)
            let router = ModelRouter(
                providers: [config(api, server), backup], httpClient: client, retry: RetryPolicy(maxAttempts: 1),
                timeouts: fastTimeouts, logger: quietLogger)
            let stuck = ModelRef(provider: api.rawValue, model: "stuck")
            let fine = ModelRef(provider: "backup", model: "fine")
            let (answer, servedBy) = try await router.complete(candidates: [stuck, fine], request: hello)
            #expect(servedBy == fine)
            #expect(answer.text == "echo: hi there")
            #expect(await eventually { server.cancelledCount == 1 })
        }
    }

    @Test func totalTimeoutEndsAStreamThatAlreadyStarted() async throws {
        try await withUpstream { server, client in
            server.script(model: "m", [.slow("a b c d e f g h", chunkDelayMs: 150)])
            let router = ModelRouter(
                providers: [config(.openAICompletions, server)], httpClient: client, retry: fastRetry,
                timeouts: ModelTimeouts(firstTokenMs: 1_000, totalMs: 500), logger: quietLogger)
            var chunks = 0
            do {
                for try await event in router.streamChat(candidates: [ModelRef(provider: "openai-completions", model: "m")], request: hello) {
                    if case .chunk = event { chunks += 1 }
                    if case .retrying = event { Issue.record("no retry once content was yielded") }
                }
                Issue.record("the stream should have timed out")
            } catch let error as ModelError {
                #expect(error.kind == .timeout)
            }
            #expect(chunks >= 1)
            #expect(await eventually { server.cancelledCount == 1 })
        }
    }

    @Test func unknownProviderFallsThroughAndIsReported() async throws {
        try await withUpstream { server, client in
            let router = ModelRouter(
                providers: [config(.openAICompletions, server)], httpClient: client, retry: fastRetry, timeouts: fastTimeouts,
                logger: quietLogger)
            let ghost = ModelRef(provider: "ghost", model: "m")
            let error = await routedError(router, [ghost])
            #expect(error?.kind == .unknown)
            #expect(error?.retryable == false)
            #expect(error?.message == "unknown provider ghost")

            let (_, servedBy) = try await router.complete(
                candidates: [ghost, ModelRef(provider: "openai-completions", model: "m")], request: hello)
            #expect(servedBy.provider == "openai-completions")
        }
    }

    // MARK: Cancellation

    @Test(arguments: ModelAPI.allCases, [UpstreamStep.hang, .hangAfterFirstChunk])
    func cancellingTheConsumerCancelsTheUpstreamRequest(api: ModelAPI, step: UpstreamStep) async throws {
        try await withUpstream { server, client in
            server.script(model: "m", [step])
            let router = ModelRouter(
                providers: [config(api, server)], httpClient: client, retry: RetryPolicy(maxAttempts: 1),
                timeouts: ModelTimeouts(firstTokenMs: 30_000, totalMs: 60_000), logger: quietLogger)
            let (chunks, chunkSignal) = AsyncStream.makeStream(of: ChatStreamEvent.self)
            let consumer = Task {
                for try await event in router.streamChat(candidates: [ModelRef(provider: api.rawValue, model: "m")], request: hello) {
                    if case .chunk(let chunk) = event { chunkSignal.yield(chunk) }
                }
            }
            if step == .hangAfterFirstChunk {
                var iterator = chunks.makeAsyncIterator()
                #expect(await iterator.next() == .textDelta("partial"))
            } else {
                #expect(await eventually { server.inFlightCount == 1 })
            }
            #expect(server.cancelledCount == 0)
            consumer.cancel()
            #expect(await eventually(seconds: 1) { server.cancelledCount == 1 }, "the upstream request must be cancelled")
            #expect(await eventually(seconds: 1) { server.inFlightCount == 0 })
            _ = await consumer.result
        }
    }

    @Test(arguments: ModelAPI.allCases)
    func stoppingIterationCancelsTheUpstreamRequest(api: ModelAPI) async throws {
        try await withUpstream { server, client in
            server.script(model: "m", [.hangAfterFirstChunk])
            let provider = ProviderFactory.make(config(api, server), httpClient: client, logger: quietLogger)
            // Breaking out and letting go of the stream terminates it (AsyncThrowingStream ends
            // when its last reference goes, or when the iterating task is cancelled).
            func readFirst() async throws -> ChatStreamEvent? {
                let stream = try await provider.streamChat(ChatRequest(model: "m", messages: [ChatMessage(role: .user, text: "hi")]))
                for try await event in stream { return event }
                return nil
            }
            let first = try await readFirst()
            #expect(first == .textDelta("partial"))
            #expect(await eventually(seconds: 1) { server.cancelledCount == 1 })
        }
    }

    /// An API that says it is done but keeps the body open: the consumer has its whole answer at
    /// once, and the rest of the body is drained for `drainGrace` only, then the request is
    /// cancelled (the connection closed) instead of being held forever.
    @Test(arguments: ModelAPI.allCases)
    func aBodyLeftOpenAfterTheEndIsDrainedForABoundedTime(api: ModelAPI) async throws {
        try await withUpstream { server, client in
            server.script(model: "m", [.hangAfterDone])
            let provider = ProviderFactory.make(config(api, server), httpClient: client, logger: quietLogger)
            let started = ContinuousClock.now
            let events = try await collect(
                try await provider.streamChat(ChatRequest(model: "m", messages: [ChatMessage(role: .user, text: "hi")])))
            let answered = ContinuousClock.now - started
            #expect(completion(events).text == "echo: hi")
            #expect(events.last == .finish(.stop))
            #expect(answered < .seconds(1), "the answer must not wait for the drain")
            // Ended within a few seconds (the bound is 2 s), not held until shutdown. That it is not
            // ended before the bound is the scheduler's test (`DeadlineSchedulerTests`): here the
            // scripted upstream itself sometimes ends such a hang right after the end marker (seen
            // in ~1 of 25 runs under load, also with the bound set to 60 s; cause not traced).
            #expect(
                await eventually(seconds: 5) { server.cancelledCount == 1 }, "the drain must end with the request cancelled")
        }
    }

    // MARK: Embeddings

    @Test func embeddingsThroughOpenAICompletions() async throws {
        try await withUpstream { server, client in
            let router = ModelRouter(
                providers: [config(.openAICompletions, server)], httpClient: client, retry: fastRetry, timeouts: fastTimeouts,
                logger: quietLogger)
            server.script(model: "emb", [.status(503, message: "busy")])
            let ref = ModelRef(provider: "openai-completions", model: "emb")
            let result = try await router.embed(model: ref, input: ["hello world", "bye", "hello world"], dimensions: 16)
            #expect(result.vectors.count == 3)
            #expect(result.vectors.allSatisfy { $0.count == 16 })
            #expect(result.vectors[0] == result.vectors[2])
            #expect(result.vectors[0] != result.vectors[1])
            #expect(result.usage == TokenUsage(input: 5, output: 0))

            let requests = server.requests(path: "/v1/embeddings")
            #expect(requests.count == 2, "the 503 was retried")
            #expect(requests.last?.body?["encoding_format"] == "float")
            #expect(requests.last?.body?["dimensions"] == 16)
        }
    }

    @Test func embeddingsThroughResponsesAndNotAnthropic() async throws {
        try await withUpstream { server, client in
            let router = ModelRouter(
                providers: [config(.openAIResponses, server), config(.anthropicMessages, server)], httpClient: client,
                retry: fastRetry, timeouts: fastTimeouts, logger: quietLogger)
            let result = try await router.embed(
                model: ModelRef(provider: "openai-responses", model: "emb"), input: ["x"], dimensions: nil)
            #expect(result.vectors.count == 1)

            do {
                _ = try await router.embed(model: ModelRef(provider: "anthropic-messages", model: "m"), input: ["x"], dimensions: nil)
                Issue.record("anthropic has no embeddings")
            } catch let error as ModelError {
                #expect(error.kind == .unknown)
                #expect(!error.retryable)
                #expect(error.message == "the anthropic-messages API has no embeddings endpoint")
            }
        }
    }

    // MARK: Helpers

    var hello: ChatRequest { ChatRequest(model: "ignored", messages: [ChatMessage(role: .user, text: "hi there")]) }
    var fastRetry: RetryPolicy { RetryPolicy(maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 50, jitter: 0.25) }
    var fastTimeouts: ModelTimeouts { ModelTimeouts(connectMs: 1_000, firstTokenMs: 300, totalMs: 10_000) }

    func config(_ api: ModelAPI, _ server: UpstreamServer, key: String = key) -> ProviderConfig {
        ProviderConfig(
            id: api.rawValue, baseURL: api == .anthropicMessages ? server.anthropicBaseURL : server.openAIBaseURL,
            apiKey: APIKey(key), api: api, models: [ModelDefinition(id: "m")])
    }

    func routedError(_ router: ModelRouter, _ candidates: [ModelRef]) async -> ModelError? {
        do {
            for try await _ in router.streamChat(candidates: candidates, request: hello) {}
            Issue.record("expected an error")
            return nil
        } catch {
            return error as? ModelError
        }
    }

    func routedText(_ events: [RoutedChatEvent]) -> String {
        completion(events.compactMap { event in
            if case .chunk(let chunk) = event { return chunk }
            return nil
        }).text
    }
}

/// Runs `body` with a fresh upstream (expecting `ProviderEndToEndTests.key` unless told) and an
/// HTTP client whose connect timeout is short.
private func withUpstream(
    apiKey: String = ProviderEndToEndTests.key, _ body: @escaping @Sendable (UpstreamServer, HTTPClient) async throws -> Void
) async throws {
    try await UpstreamServer.with(apiKey: apiKey) { server in
        var configuration = HTTPClient.Configuration()
        configuration.timeout = ModelTimeouts(connectMs: 1_000).httpClientTimeout
        try await HTTPClient.withHTTPClient(configuration: configuration) { client in
            try await body(server, client)
        }
    }
}

private let quietLogger: Logger = {
    var logger = Logger(label: "clawgate.models.tests")
    logger.logLevel = .critical
    return logger
}()

private func collect<Element>(_ stream: AsyncThrowingStream<Element, any Error>) async throws -> [Element] {
    var events: [Element] = []
    for try await event in stream { events.append(event) }
    return events
}

private func completion(_ events: [ChatStreamEvent]) -> ChatCompletion {
    var answer = ChatCompletion(text: "", toolCalls: [], usage: nil, finishReason: .stop)
    for event in events {
        switch event {
        case .textDelta(let text): answer.text += text
        case .toolCall(let call): answer.toolCalls.append(call)
        case .usage(let usage): answer.usage = usage
        case .finish(let reason): answer.finishReason = reason
        }
    }
    return answer
}


// MARK: - Server-sent events

@Suite("ServerSentEventParser")
struct ServerSentEventParserTests {
    /// Every line ending, a comment, a multi-line data field, ids, an event without data (not
    /// dispatched), multi-byte UTF-8 and an unterminated tail (discarded).
    static let stream = Array(
        ("\u{FEFF}: keep-alive\r\n"
            + "event: greeting\r\ndata: héllo 👋🏽\r\nid: 1\r\n\r\n"
            + "data: line one\ndata:line two\ndata\n\n"
            + "event: lonely\r\rdata: 日本語\rid: 2\r\r"
            + ": just a comment\n\n"
            + "retry: 1000\nunknown: x\ndata: {\"a\":1}\n\n"
            + "data: never dispatched").utf8)

    static let expected = [
        ServerSentEvent(event: "greeting", data: "héllo 👋🏽", id: "1"),
        ServerSentEvent(event: nil, data: "line one\nline two\n", id: "1"),
        ServerSentEvent(event: nil, data: "日本語", id: "2"),
        ServerSentEvent(event: nil, data: #"{"a":1}"#, id: "2"),
    ]

    static func parse(_ chunks: [[UInt8]]) throws -> [ServerSentEvent] {
        var parser = ServerSentEventParser()
        var events: [ServerSentEvent] = []
        for chunk in chunks { events += try parser.feed(ByteBuffer(bytes: chunk)) }
        parser.finish()
        return events
    }

    @Test func wholeStream() throws {
        #expect(try Self.parse([Self.stream]) == Self.expected)
    }

    @Test func splitAtEveryOffset() throws {
        for offset in 0...Self.stream.count {
            let chunks = [Array(Self.stream[..<offset]), Array(Self.stream[offset...])]
            #expect(try Self.parse(chunks) == Self.expected, "split at \(offset)")
        }
    }

    @Test func splitAtEveryPairOfOffsets() throws {
        let count = Self.stream.count
        for first in stride(from: 0, through: count, by: 3) {
            for second in first...count {
                let chunks = [Array(Self.stream[..<first]), Array(Self.stream[first..<second]), Array(Self.stream[second...])]
                #expect(try Self.parse(chunks) == Self.expected, "split at \(first), \(second)")
            }
        }
    }

    @Test func oneByteAtATime() throws {
        #expect(try Self.parse(Self.stream.map { [$0] }) == Self.expected)
    }

    @Test func crLFSplitAcrossChunksIsOneLineEnd() throws {
        // "\r" ends a chunk and "\n" starts the next: one line end, so no extra blank line.
        let events = try Self.parse([Array("data: a\r".utf8), Array("\ndata: b\r".utf8), Array("\n\r\n".utf8)])
        #expect(events == [ServerSentEvent(data: "a\nb")])
    }

    @Test func invalidUTF8BecomesReplacementCharacters() throws {
        let events = try Self.parse([[0x64, 0x61, 0x74, 0x61, 0x3A, 0x20, 0xFF, 0x41, 0x0A, 0x0A]])
        #expect(events == [ServerSentEvent(data: "\u{FFFD}A")])
    }

    @Test func overlongLineIsAnError() throws {
        var parser = ServerSentEventParser(maxLineBytes: 16)
        #expect(throws: ServerSentEventParserError.self) {
            _ = try parser.feed(ByteBuffer(string: "data: 0123456789"))
            _ = try parser.feed(ByteBuffer(string: "0123456789\n"))
        }
    }
}

// MARK: - Wire formats without a socket

@Suite("Stream decoders")
struct StreamDecoderTests {
    func run<Decoder: ChatStreamDecoder>(_ decoder: Decoder, _ events: [ServerSentEvent]) throws(ModelError) -> [ChatStreamEvent] {
        var decoder = decoder
        var output: [ChatStreamEvent] = []
        for event in events where !decoder.isComplete { try decoder.consume(event, into: &output) }
        try decoder.finish(into: &output)
        return output
    }

    @Test func openAIParallelToolCallsAreAssembledByIndex() throws {
        let chunks = [
            #"{"choices":[{"index":0,"delta":{"role":"assistant","content":"Let me check."}}]}"#,
            #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"one","arguments":""}}]}}]}"#,
            #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"two","arguments":"{\"x\""}}]}}]}"#,
            #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}}]}"#,
            #"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":":1}"}}]}}]}"#,
            #"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            #"{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":9,"total_tokens":16}}"#,
            "[DONE]",
        ].map { ServerSentEvent(data: $0) }
        let events = try run(OpenAICompletionsStreamDecoder(provider: "p", model: "m", apiKey: nil), chunks)
        #expect(events == [
            .textDelta("Let me check."),
            .toolCall(ToolCall(id: "call_a", name: "one", arguments: "{}")),
            .toolCall(ToolCall(id: "call_b", name: "two", arguments: #"{"x":1}"#)),
            .usage(TokenUsage(input: 7, output: 9)),
            .finish(.toolCalls),
        ])
    }

    @Test func openAIChunkNullsAndUnknownFieldsAreTolerated() throws {
        let chunks = [
            #"{"id":"x","choices":[{"index":0,"delta":{"role":"assistant","content":null,"refusal":null,"tool_calls":null},"finish_reason":null,"logprobs":null}],"usage":null}"#,
            #"{"choices":[{"index":0,"delta":{"content":"Hi"}},{"index":1,"delta":{"content":"not the first choice"}}]}"#,
            #"{"choices":[{"index":0.0,"delta":{},"finish_reason":"length"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#,
            "[DONE]",
        ].map { ServerSentEvent(data: $0) }
        let events = try run(OpenAICompletionsStreamDecoder(provider: "p", model: "m", apiKey: nil), chunks)
        #expect(events == [.textDelta("Hi"), .usage(TokenUsage(input: 3, output: 1)), .finish(.length)])
    }

    @Test(arguments: [
        (#"{"choices":[{"index":0,"delta":{"content":42}}]}"#, "choices[0].delta.content: expected a string, got number"),
        (#"{"choices":{"index":0}}"#, "choices: expected an array, got object"),
        (#"{"choices":["text"]}"#, "choices[0]: expected an object, got string"),
        (#"{"choices":[{"index":"0","delta":{}}]}"#, "choices[0].index: expected an integer, got string"),
        (#"{"choices":[{"index":0.5,"delta":{}}]}"#, "choices[0].index: expected an integer, got number"),
        (#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":7}}]}}]}"#,
         "choices[0].delta.tool_calls[0].function.name: expected a string, got number"),
        (#"{"usage":{"prompt_tokens":true}}"#, "usage.prompt_tokens: expected an integer, got boolean"),
        (#"[1,2]"#, "<root>: expected an object, got array"),
        (#"{"choices":[{"delta":{"content":"a"}}"#, nil),
    ])
    func openAIMalformedChunkNamesTheField(data: String, message: String?) throws {
        do {
            _ = try run(OpenAICompletionsStreamDecoder(provider: "p", model: "m", apiKey: nil), [ServerSentEvent(data: data)])
            Issue.record("expected an error for \(data)")
        } catch {
            #expect(error.retryable)
            #expect(error.message.hasPrefix("malformed stream event: "))
            if let message { #expect(error.message == "malformed stream event: \(message)") }
        }
    }

    @Test func openAIStreamCutShortIsARetryableError() throws {
        let chunks = [ServerSentEvent(data: #"{"choices":[{"index":0,"delta":{"content":"Hel"}}]}"#)]
        #expect(throws: ModelError.truncated(provider: "p", model: "m")) {
            _ = try run(OpenAICompletionsStreamDecoder(provider: "p", model: "m", apiKey: nil), chunks)
        }
    }

    @Test func openAIErrorInsideTheStream() throws {
        let chunks = [ServerSentEvent(data: #"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#)]
        do {
            _ = try run(OpenAICompletionsStreamDecoder(provider: "p", model: "m", apiKey: nil), chunks)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .rateLimit)
            #expect(error.retryable)
            #expect(error.message == "Rate limit reached")
        }
    }

    @Test func responsesFailedEventIsAModelError() throws {
        let events = [
            ServerSentEvent(event: "response.output_text.delta", data: #"{"type":"response.output_text.delta","delta":"Hi"}"#),
            ServerSentEvent(
                event: "response.failed",
                data: #"{"type":"response.failed","response":{"status":"failed","error":{"code":"server_error","message":"oops"}}}"#),
        ]
        do {
            _ = try run(OpenAIResponsesStreamDecoder(provider: "p", model: "m", apiKey: nil), events)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .unknown)
            #expect(error.retryable)
            #expect(error.message == "oops")
        }
    }

    @Test func anthropicTextThenToolUseWithCacheUsage() throws {
        let events = [
            #"{"type":"message_start","message":{"usage":{"input_tokens":10,"cache_read_input_tokens":5,"output_tokens":1}}}"#,
            #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Checking"}}"#,
            #"{"type":"content_block_stop","index":0}"#,
            #"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_9","name":"look","input":{}}}"#,
            #"{"type":"ping"}"#,
            #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"q\":"}}"#,
            #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"x\"}"}}"#,
            #"{"type":"content_block_stop","index":1}"#,
            #"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":12}}"#,
            #"{"type":"message_stop"}"#,
        ].map { ServerSentEvent(data: $0) }
        let output = try run(AnthropicMessagesStreamDecoder(provider: "p", model: "m", apiKey: nil), events)
        #expect(output == [
            .textDelta("Checking"),
            .toolCall(ToolCall(id: "toolu_9", name: "look", arguments: #"{"q":"x"}"#)),
            .usage(TokenUsage(input: 15, output: 12)),
            .finish(.toolCalls),
        ])
    }

    @Test func anthropicOverloadedErrorEventIsRetryable() throws {
        let events = [ServerSentEvent(
            event: "error", data: #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)]
        do {
            _ = try run(AnthropicMessagesStreamDecoder(provider: "p", model: "m", apiKey: nil), events)
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .unknown)
            #expect(error.retryable)
            #expect(error.message == "Overloaded")
        }
    }

    @Test func anthropicStopReasons() {
        #expect(AnthropicMessagesStreamDecoder.finishReason("end_turn", hasToolCalls: false) == .stop)
        #expect(AnthropicMessagesStreamDecoder.finishReason("stop_sequence", hasToolCalls: false) == .stop)
        #expect(AnthropicMessagesStreamDecoder.finishReason("max_tokens", hasToolCalls: false) == .length)
        #expect(AnthropicMessagesStreamDecoder.finishReason("tool_use", hasToolCalls: true) == .toolCalls)
        #expect(AnthropicMessagesStreamDecoder.finishReason("refusal", hasToolCalls: false) == .contentFilter)
    }
}

@Suite("Request bodies and errors")
struct RequestAndErrorTests {
    @Test func anthropicMergesToolResultsAndParsesArguments() {
        let request = ChatRequest(
            model: "claude", messages: [
                ChatMessage(role: .system, text: "one"),
                ChatMessage(role: .user, text: "go"),
                ChatMessage(role: .assistant, text: "", toolCalls: [
                    ToolCall(id: "t1", name: "a", arguments: #"{"k":[1,2]}"#), ToolCall(id: "t2", name: "b", arguments: "not json"),
                ]),
                ChatMessage(role: .tool, text: "r1", toolCallId: "t1"),
                ChatMessage(role: .tool, text: "r2", toolCallId: "t2"),
                ChatMessage(role: .system, text: "two"),
            ], toolChoice: .required, stop: ["END"])
        let body = AnthropicMessagesProvider.requestBody(request)
        #expect(body["system"] == "one\n\ntwo")
        #expect(body["max_tokens"] == 4096)
        #expect(body["tool_choice"] == ["type": "any"])
        #expect(body["stop_sequences"] == ["END"])
        let messages = body["messages"]?.arrayValue ?? []
        #expect(messages.count == 3)
        #expect(messages[1]["content"]?.arrayValue?.map { $0["input"] } == [["k": [1, 2]], [:]])
        #expect(messages[2]["role"] == "user")
        #expect(messages[2]["content"]?.arrayValue?.map { $0["tool_use_id"] } == ["t1", "t2"])
    }

    @Test func anthropicURLDoesNotDoubleTheVersion() {
        let client = HTTPClient.shared
        for (base, url) in [
            ("https://api.anthropic.com", "https://api.anthropic.com/v1/messages"),
            ("https://api.anthropic.com/", "https://api.anthropic.com/v1/messages"),
            ("https://proxy.example/v1", "https://proxy.example/v1/messages"),
            ("https://proxy.example/v1/", "https://proxy.example/v1/messages"),
        ] {
            let provider = AnthropicMessagesProvider(
                config: ProviderConfig(id: "a", baseURL: base, apiKey: nil, api: .anthropicMessages), httpClient: ModelHTTPClients(client),
                logger: quietLogger)
            #expect(provider.messagesURL == url)
        }
    }

    @Test func openAIToolChoiceAndStop() {
        let body = OpenAICompletionsProvider.requestBody(
            ChatRequest(model: "m", messages: [], toolChoice: .function("f"), topP: 0.9, stop: ["x"]))
        #expect(body["tool_choice"] == ["type": "function", "function": ["name": "f"]])
        #expect(body["top_p"] == 0.9)
        #expect(body["stop"] == ["x"])
        #expect(body["max_tokens"] == nil)
    }

    @Test(arguments: [
        (401, "{}", ModelErrorKind.auth, false),
        (403, "{}", .auth, false),
        (429, #"{"error":{"message":"slow","code":"rate_limit_exceeded"}}"#, .rateLimit, true),
        (429, #"{"error":{"message":"quota","code":"insufficient_quota"}}"#, .rateLimit, false),
        (408, "", .timeout, true),
        (504, "", .timeout, true),
        (500, "", .unknown, true),
        (503, "", .unknown, true),
        (529, #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#, .unknown, true),
        (400, #"{"error":{"message":"too long","code":"context_length_exceeded"}}"#, .contextLength, false),
        (400, #"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 5 > 4"}}"#, .contextLength, false),
        (400, #"{"error":{"message":"This model's maximum context length is 8192 tokens"}}"#, .contextLength, false),
        (400, #"{"error":{"message":"bad parameter"}}"#, .unknown, false),
        (404, "not found", .unknown, false),
    ])
    func httpStatusMapping(status: Int, body: String, kind: ModelErrorKind, retryable: Bool) {
        let error = ProviderErrors.fromHTTP(status: status, body: ByteBuffer(string: body), provider: "p", model: "m")
        #expect(error.kind == kind)
        #expect(error.retryable == retryable)
        #expect(error.httpStatus == status)
    }

    @Test func errorMessagesAreExtractedTruncatedAndScrubbed() {
        let key = APIKey("sk-secret-abcdef")
        let echoed = ProviderErrors.fromHTTP(
            status: 401, body: ByteBuffer(string: #"{"error":{"message":"Incorrect API key provided: sk-secret-abcdef."}}"#),
            provider: "p", model: "m", apiKey: key)
        #expect(echoed.message == "Incorrect API key provided: <redacted>.")

        let long = ProviderErrors.fromHTTP(status: 500, body: ByteBuffer(string: String(repeating: "x", count: 5_000)), provider: "p", model: "m")
        #expect(long.message.count <= ProviderErrors.maxMessageLength + 1)

        let empty = ProviderErrors.fromHTTP(status: 502, body: nil, provider: "p", model: "m")
        #expect(empty.message == "HTTP 502")
    }

    @Test func retryAfterHeaders() {
        #expect(ProviderErrors.retryAfterMs(["retry-after": "2"]) == 2_000)
        #expect(ProviderErrors.retryAfterMs(["retry-after-ms": "150"]) == 150)
        #expect(ProviderErrors.retryAfterMs(["retry-after": "soon"]) == nil)
        #expect(ProviderErrors.retryAfterMs([:]) == nil)
        let error = ProviderErrors.fromHTTP(status: 429, body: nil, headers: ["retry-after": "1"], provider: "p", model: "m")
        #expect(error.retryAfterMs == 1_000)
    }

    @Test func backoffGrowsIsCappedAndHonoursRetryAfter() {
        let policy = RetryPolicy(maxAttempts: 5, initialBackoffMs: 100, maxBackoffMs: 1_000, jitter: 0.25)
        for _ in 0..<50 {
            #expect((75...125).contains(policy.delayMs(afterAttempt: 1)))
            #expect((150...250).contains(policy.delayMs(afterAttempt: 2)))
            #expect(policy.delayMs(afterAttempt: 10) <= 1_000)
            #expect(policy.delayMs(afterAttempt: 1, retryAfterMs: 600) == 600)
            #expect(policy.delayMs(afterAttempt: 1, retryAfterMs: 60_000) == 1_000)
        }
        #expect(RetryPolicy(initialBackoffMs: 100, jitter: 0).delayMs(afterAttempt: 3) == 400)
    }

    @Test func catalogListsEveryModelInConfigOrder() {
        let router = ModelRouter(
            providers: [
                ProviderConfig(id: "b", baseURL: "http://x", apiKey: nil, api: .openAICompletions, models: [ModelDefinition(id: "b1"), ModelDefinition(id: "b2")]),
                ProviderConfig(id: "a", baseURL: "http://y", apiKey: nil, api: .anthropicMessages, models: [ModelDefinition(id: "a1")]),
            ], httpClient: HTTPClient.shared, logger: quietLogger)
        #expect(router.catalog.map(\.ref.description) == ["b/b1", "b/b2", "a/a1"])
        #expect(router.provider("a")?.config.api == .anthropicMessages)
        #expect(router.provider("zz") == nil)
    }
}
