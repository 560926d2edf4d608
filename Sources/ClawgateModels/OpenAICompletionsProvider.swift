import AsyncHTTPClient
import ClawgateProtocol
import Logging
import NIOCore

/// The OpenAI chat completions API (`POST {baseURL}/chat/completions`, `POST {baseURL}/embeddings`),
/// which most OpenAI-compatible servers (vLLM, Ollama, LiteLLM, OpenRouter…) also speak.
///
/// Chats always stream, with `stream_options.include_usage` so the usage arrives in a last chunk
/// of its own; a non-streamed answer is just the collected stream.
public struct OpenAICompletionsProvider: ModelProvider {
    public let config: ProviderConfig
    let http: ProviderHTTP

    /// `responseHeadTimeout` bounds the wait for the response head only (see `ProviderHTTP`).
    public init(
        config: ProviderConfig, httpClient: ModelHTTPClients, logger: Logger, responseHeadTimeout: TimeAmount = .seconds(600),
        deadlines: DeadlineScheduler = DeadlineScheduler()
    ) {
        self.config = config
        self.http = ProviderHTTP(
            config: config, clients: httpClient, logger: logger, apiHeaders: Self.authHeaders(config.apiKey),
            responseHeadTimeout: responseHeadTimeout, deadlines: deadlines)
    }

    static func authHeaders(_ key: APIKey?) -> [(String, String)] {
        key.map { [("authorization", "Bearer \($0.reveal())")] } ?? []
    }

    public func streamChat(_ request: ChatRequest) async throws -> AsyncThrowingStream<ChatStreamEvent, any Error> {
        let response = try await http.post(
            http.url("/chat/completions"), body: Self.requestBody(request), model: request.model, streaming: true)
        let decoder = OpenAICompletionsStreamDecoder(provider: config.id, model: request.model, apiKey: config.apiKey)
        return http.stream(response, decoder: decoder, model: request.model)
    }

    public func embed(_ request: EmbeddingRequest) async throws -> EmbeddingResult {
        try await Self.embed(request, http: http)
    }

    // MARK: Request

    static func requestBody(_ request: ChatRequest) -> JSONValue {
        var body: [String: JSONValue] = [
            "model": .string(request.model),
            "messages": .array(request.messages.map(message)),
            "stream": true,
            "stream_options": ["include_usage": true],
        ]
        if !request.tools.isEmpty {
            body["tools"] = .array(
                request.tools.map { tool in
                    [
                        "type": "function",
                        "function": [
                            "name": .string(tool.name), "description": .string(tool.description),
                            "parameters": tool.parameters,
                        ],
                    ]
                })
        }
        if let choice = request.toolChoice {
            switch choice {
            case .auto: body["tool_choice"] = "auto"
            case .none: body["tool_choice"] = "none"
            case .required: body["tool_choice"] = "required"
            case .function(let name): body["tool_choice"] = ["type": "function", "function": ["name": .string(name)]]
            }
        }
        if let maxTokens = request.maxTokens { body["max_tokens"] = .int(maxTokens) }
        if let temperature = request.temperature { body["temperature"] = .double(temperature) }
        if let topP = request.topP { body["top_p"] = .double(topP) }
        if !request.stop.isEmpty { body["stop"] = .array(request.stop.map(JSONValue.string)) }
        return .object(body)
    }

    static func message(_ message: ChatMessage) -> JSONValue {
        var object: [String: JSONValue] = ["role": .string(message.role.rawValue)]
        switch message.role {
        case .system, .user:
            object["content"] = .string(message.text)
        case .assistant:
            // An assistant turn that only calls tools has `content: null`.
            object["content"] = message.text.isEmpty && !message.toolCalls.isEmpty ? .null : .string(message.text)
            if !message.toolCalls.isEmpty {
                object["tool_calls"] = .array(
                    message.toolCalls.map { call in
                        [
                            "id": .string(call.id), "type": "function",
                            "function": ["name": .string(call.name), "arguments": .string(call.arguments)],
                        ]
                    })
            }
        case .tool:
            object["content"] = .string(message.text)
            object["tool_call_id"] = .string(message.toolCallId ?? "")
            if let name = message.name { object["name"] = .string(name) }
        }
        return .object(object)
    }

    // MARK: Embeddings (shared with the Responses provider: same endpoint)

    static func embed(_ request: EmbeddingRequest, http: ProviderHTTP) async throws -> EmbeddingResult {
        var body: [String: JSONValue] = [
            "model": .string(request.model),
            "input": .array(request.input.map(JSONValue.string)),
            "encoding_format": "float",
        ]
        if let dimensions = request.dimensions { body["dimensions"] = .int(dimensions) }
        let response = try await http.post(http.url("/embeddings"), body: .object(body), model: request.model, streaming: false)
        let decoded = try await http.readJSON(response, as: EmbeddingsResponse.self, model: request.model)
        let items = decoded.data.enumerated().sorted { ($0.element.index ?? $0.offset) < ($1.element.index ?? $1.offset) }
        guard items.count == request.input.count else {
            throw ModelError(
                kind: .unknown, message: "expected \(request.input.count) embeddings, got \(items.count)",
                provider: http.config.id, model: request.model, retryable: false)
        }
        let usage = TokenUsage(input: decoded.usage?.promptTokens ?? decoded.usage?.totalTokens ?? 0, output: 0)
        return EmbeddingResult(vectors: items.map(\.element.embedding), usage: usage)
    }

    struct EmbeddingsResponse: Decodable {
        struct Item: Decodable {
            var index: Int?
            var embedding: [Float]
        }
        struct Usage: Decodable {
            var promptTokens: Int?
            var totalTokens: Int?
            enum CodingKeys: String, CodingKey {
                case promptTokens = "prompt_tokens"
                case totalTokens = "total_tokens"
            }
        }
        var data: [Item]
        var usage: Usage?
    }
}

/// The chat completions chunk stream: `data: {chunk}` events ending with `data: [DONE]`.
struct OpenAICompletionsStreamDecoder: ChatStreamDecoder {
    let provider: String
    let model: String
    let apiKey: APIKey?

    private(set) var isComplete = false
    private var toolCalls: [PartialToolCall] = []
    private var finishReason: FinishReason?
    private var sawRefusal = false
    private var usage: TokenUsage?

    /// A tool call being assembled: the first fragment names it, later ones add arguments.
    private struct PartialToolCall {
        var index: Int
        var id: String
        var name: String
        var arguments: String
    }

    init(provider: String, model: String, apiKey: APIKey?) {
        self.provider = provider
        self.model = model
        self.apiKey = apiKey
    }

    mutating func consume(_ event: ServerSentEvent, into output: inout [ChatStreamEvent]) throws(ModelError) {
        if event.data == "[DONE]" {
            isComplete = true
            return
        }
        let chunk = try Chunk(event, provider: provider, model: model)
        if let error = chunk.error {
            let details = ErrorDetails(json: ["error": error])
            throw ProviderErrors.fromStreamError(
                type: details.type, code: details.code, message: details.message, provider: provider, model: model,
                apiKey: apiKey)
        }
        for choice in chunk.choices ?? [] where (choice.index ?? 0) == 0 {
            if let delta = choice.delta {
                if let text = delta.content, !text.isEmpty { output.append(.textDelta(text)) }
                if let refusal = delta.refusal, !refusal.isEmpty {
                    // A refusal is an answer, not a failure: pass its text on, finish as filtered.
                    sawRefusal = true
                    output.append(.textDelta(refusal))
                }
                for fragment in delta.toolCalls ?? [] { add(fragment) }
            }
            if let reason = choice.finishReason { finishReason = Self.finishReason(reason) }
        }
        if let usage = chunk.usage {
            self.usage = TokenUsage(input: usage.promptTokens ?? 0, output: usage.completionTokens ?? 0)
        }
    }

    private mutating func add(_ fragment: Chunk.ToolCallDelta) {
        let index = fragment.index ?? toolCalls.last?.index ?? 0
        if let position = toolCalls.firstIndex(where: { $0.index == index }) {
            if let id = fragment.id, !id.isEmpty { toolCalls[position].id = id }
            if let name = fragment.function?.name, !name.isEmpty { toolCalls[position].name = name }
            toolCalls[position].arguments += fragment.function?.arguments ?? ""
        } else {
            toolCalls.append(
                PartialToolCall(
                    index: index, id: fragment.id ?? "", name: fragment.function?.name ?? "",
                    arguments: fragment.function?.arguments ?? ""))
        }
    }

    mutating func finish(into output: inout [ChatStreamEvent]) throws(ModelError) {
        // No `[DONE]` is tolerated when a finish_reason came (some servers omit it); neither is not.
        guard isComplete || finishReason != nil else { throw .truncated(provider: provider, model: model) }
        for call in toolCalls.sorted(by: { $0.index < $1.index }) {
            let id = call.id.isEmpty ? "call_\(call.index)" : call.id
            output.append(.toolCall(ToolCall(id: id, name: call.name, arguments: call.arguments)))
        }
        if let usage { output.append(.usage(usage)) }
        var reason = finishReason ?? .stop
        if sawRefusal {
            reason = .contentFilter
        } else if reason == .stop, !toolCalls.isEmpty {
            reason = .toolCalls  // some compatible servers say "stop" after calling tools
        }
        output.append(.finish(reason))
    }

    static func finishReason(_ text: String) -> FinishReason {
        switch text {
        case "length": .length
        case "tool_calls", "function_call": .toolCalls
        case "content_filter": .contentFilter
        default: .stop
        }
    }

    /// One `data:` chunk, read straight from the parsed JSON rather than through `Decodable`:
    /// this runs for every streamed chunk, and the generic decoding containers cost more than
    /// parsing the text (~6 % of a proxied chat completion's CPU). Absent and `null` fields are
    /// nil; a field of the wrong type makes the chunk malformed, naming its path.
    struct Chunk {
        struct Choice {
            var index: Int?
            var delta: Delta?
            var finishReason: String?
        }
        struct Delta {
            var content: String?
            var refusal: String?
            var toolCalls: [ToolCallDelta]?
        }
        struct ToolCallDelta {
            var index: Int?
            var id: String?
            var function: Function?
        }
        struct Function {
            var name: String?
            var arguments: String?
        }
        struct Usage {
            var promptTokens: Int?
            var completionTokens: Int?
        }
        var choices: [Choice]?
        var usage: Usage?
        var error: JSONValue?

        init(_ event: ServerSentEvent, provider: String, model: String) throws(ModelError) {
            let json: JSONValue
            do {
                var text = event.data
                json = try text.withUTF8 { try JSONCoding.jsonValue(from: UnsafeRawBufferPointer($0)) }
            } catch {
                throw ModelError.malformed(JSONCoding.describe(error), provider: provider, model: model)
            }
            do throws(ShapeError) {
                try self.init(json: json)
            } catch {
                throw ModelError.malformed(error.description, provider: provider, model: model)
            }
        }

        init(json: JSONValue) throws(ShapeError) {
            let root = try Fields(json, path: "")
            choices = try root.array("choices")?.enumerated().map { offset, item throws(ShapeError) in
                let choice = try Fields(item, path: "choices[\(offset)]")
                var delta: Delta?
                if let value = try choice.object("delta") {
                    let fields = try Fields(value, path: "choices[\(offset)].delta")
                    delta = Delta(
                        content: try fields.string("content"), refusal: try fields.string("refusal"),
                        toolCalls: try fields.array("tool_calls")?.enumerated().map { position, item throws(ShapeError) in
                            let call = try Fields(item, path: "choices[\(offset)].delta.tool_calls[\(position)]")
                            var function: Function?
                            if let value = try call.object("function") {
                                let fields = try Fields(value, path: call.path + ".function")
                                function = Function(name: try fields.string("name"), arguments: try fields.string("arguments"))
                            }
                            return ToolCallDelta(index: try call.int("index"), id: try call.string("id"), function: function)
                        }
                    )
                }
                return Choice(index: try choice.int("index"), delta: delta, finishReason: try choice.string("finish_reason"))
            }
            if let value = try root.object("usage") {
                let fields = try Fields(value, path: "usage")
                usage = Usage(promptTokens: try fields.int("prompt_tokens"), completionTokens: try fields.int("completion_tokens"))
            }
            error = root.value("error")
        }

        /// A field of the chunk that has the wrong type.
        struct ShapeError: Error, CustomStringConvertible {
            let path: String
            let expected: String
            let got: String
            var description: String { "\(path): expected \(expected), got \(got)" }
        }

        /// The members of one JSON object of the chunk, read by type.
        struct Fields {
            let members: [String: JSONValue]
            let path: String

            init(_ value: JSONValue, path: String) throws(ShapeError) {
                guard case .object(let members) = value else {
                    throw ShapeError(path: path.isEmpty ? "<root>" : path, expected: "an object", got: value.typeName)
                }
                self.members = members
                self.path = path
            }

            /// nil when absent or `null`.
            func value(_ key: String) -> JSONValue? {
                guard let value = members[key], !value.isNull else { return nil }
                return value
            }

            private func mismatch(_ key: String, _ expected: String, _ value: JSONValue) -> ShapeError {
                ShapeError(path: path.isEmpty ? key : "\(path).\(key)", expected: expected, got: value.typeName)
            }

            func string(_ key: String) throws(ShapeError) -> String? {
                guard let value = value(key) else { return nil }
                guard case .string(let text) = value else { throw mismatch(key, "a string", value) }
                return text
            }

            func int(_ key: String) throws(ShapeError) -> Int? {
                guard let value = value(key) else { return nil }
                guard let number = value.intValue else { throw mismatch(key, "an integer", value) }
                return number
            }

            func object(_ key: String) throws(ShapeError) -> JSONValue? {
                guard let value = value(key) else { return nil }
                guard case .object = value else { throw mismatch(key, "an object", value) }
                return value
            }

            func array(_ key: String) throws(ShapeError) -> [JSONValue]? {
                guard let value = value(key) else { return nil }
                guard case .array(let items) = value else { throw mismatch(key, "an array", value) }
                return items
            }
        }
    }
}
