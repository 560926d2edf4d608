import AsyncHTTPClient
import ClawgateProtocol
import Logging
import NIOCore

/// The OpenAI Responses API (`POST {baseURL}/responses`): typed `response.*` stream events,
/// conversation as `input` items, system text as `instructions`. Embeddings use the same
/// `/embeddings` endpoint as chat completions.
///
/// `ChatRequest.stop` has no Responses equivalent and is not sent.
public struct OpenAIResponsesProvider: ModelProvider {
    public let config: ProviderConfig
    let http: ProviderHTTP

    /// `responseHeadTimeout` bounds the wait for the response head only (see `ProviderHTTP`).
    public init(
        config: ProviderConfig, httpClient: ModelHTTPClients, logger: Logger, responseHeadTimeout: TimeAmount = .seconds(600),
        deadlines: DeadlineScheduler = DeadlineScheduler()
    ) {
        self.config = config
        self.http = ProviderHTTP(
            config: config, clients: httpClient, logger: logger,
            apiHeaders: OpenAICompletionsProvider.authHeaders(config.apiKey), responseHeadTimeout: responseHeadTimeout,
            deadlines: deadlines)
    }

    public func streamChat(_ request: ChatRequest) async throws -> AsyncThrowingStream<ChatStreamEvent, any Error> {
        let response = try await http.post(
            http.url("/responses"), body: Self.requestBody(request), model: request.model, streaming: true)
        let decoder = OpenAIResponsesStreamDecoder(provider: config.id, model: request.model, apiKey: config.apiKey)
        return http.stream(response, decoder: decoder, model: request.model)
    }

    public func embed(_ request: EmbeddingRequest) async throws -> EmbeddingResult {
        try await OpenAICompletionsProvider.embed(request, http: http)
    }

    // MARK: Request

    static func requestBody(_ request: ChatRequest) -> JSONValue {
        var input: [JSONValue] = []
        var instructions: [String] = []
        for message in request.messages {
            switch message.role {
            case .system:
                instructions.append(message.text)
            case .user:
                input.append(["role": "user", "content": .string(message.text)])
            case .assistant:
                if !message.text.isEmpty || message.toolCalls.isEmpty {
                    input.append(["role": "assistant", "content": .string(message.text)])
                }
                for call in message.toolCalls {
                    input.append([
                        "type": "function_call", "call_id": .string(call.id), "name": .string(call.name),
                        "arguments": .string(call.arguments),
                    ])
                }
            case .tool:
                input.append([
                    "type": "function_call_output", "call_id": .string(message.toolCallId ?? ""),
                    "output": .string(message.text),
                ])
            }
        }
        var body: [String: JSONValue] = [
            "model": .string(request.model),
            "input": .array(input),
            "stream": true,
        ]
        if !instructions.isEmpty { body["instructions"] = .string(instructions.joined(separator: "\n\n")) }
        if !request.tools.isEmpty {
            body["tools"] = .array(
                request.tools.map { tool in
                    [
                        "type": "function", "name": .string(tool.name), "description": .string(tool.description),
                        "parameters": tool.parameters,
                    ]
                })
        }
        if let choice = request.toolChoice {
            switch choice {
            case .auto: body["tool_choice"] = "auto"
            case .none: body["tool_choice"] = "none"
            case .required: body["tool_choice"] = "required"
            case .function(let name): body["tool_choice"] = ["type": "function", "name": .string(name)]
            }
        }
        if let maxTokens = request.maxTokens { body["max_output_tokens"] = .int(maxTokens) }
        if let temperature = request.temperature { body["temperature"] = .double(temperature) }
        if let topP = request.topP { body["top_p"] = .double(topP) }
        return .object(body)
    }
}

/// The Responses event stream: text deltas, function-call items assembled from their added /
/// arguments-delta / done events, and `response.completed` (or `.incomplete`) with the usage.
struct OpenAIResponsesStreamDecoder: ChatStreamDecoder {
    let provider: String
    let model: String
    let apiKey: APIKey?

    private(set) var isComplete = false
    private var calls: [PartialCall] = []
    private var usage: TokenUsage?
    private var status: String?
    private var incompleteReason: String?
    private var sawRefusal = false

    private struct PartialCall {
        var itemId: String?
        var outputIndex: Int?
        var callId: String
        var name: String
        var arguments: String
    }

    init(provider: String, model: String, apiKey: APIKey?) {
        self.provider = provider
        self.model = model
        self.apiKey = apiKey
    }

    mutating func consume(_ event: ServerSentEvent, into output: inout [ChatStreamEvent]) throws(ModelError) {
        if event.data == "[DONE]" {  // not part of this API, but harmless from a compatible server
            return
        }
        let body = try decodeEventData(Event.self, event, provider: provider, model: model)
        let type = body.type ?? event.event ?? ""
        switch type {
        case "response.output_text.delta":
            if let delta = body.delta, !delta.isEmpty { output.append(.textDelta(delta)) }
        case "response.refusal.delta":
            // A refusal is an answer, not a failure: pass its text on, finish as filtered.
            sawRefusal = true
            if let delta = body.delta, !delta.isEmpty { output.append(.textDelta(delta)) }
        case "response.output_item.added", "response.output_item.done":
            guard let item = body.item, item.type == "function_call" else { return }
            let position = callPosition(itemId: item.id, outputIndex: body.outputIndex)
            if let callId = item.callId, !callId.isEmpty { calls[position].callId = callId }
            if let name = item.name, !name.isEmpty { calls[position].name = name }
            if type == "response.output_item.done", let arguments = item.arguments { calls[position].arguments = arguments }
        case "response.function_call_arguments.delta":
            let position = callPosition(itemId: body.itemId, outputIndex: body.outputIndex)
            calls[position].arguments += body.delta ?? ""
        case "response.function_call_arguments.done":
            let position = callPosition(itemId: body.itemId, outputIndex: body.outputIndex)
            if let arguments = body.arguments { calls[position].arguments = arguments }
        case "response.completed", "response.incomplete":
            if let usage = body.response?.usage {
                self.usage = TokenUsage(input: usage.inputTokens ?? 0, output: usage.outputTokens ?? 0)
            }
            status = body.response?.status ?? (type == "response.incomplete" ? "incomplete" : "completed")
            incompleteReason = body.response?.incompleteDetails?.reason
            isComplete = true
        case "response.failed":
            let details = body.response?.error.map { ErrorDetails(json: ["error": $0]) } ?? ErrorDetails()
            throw ProviderErrors.fromStreamError(
                type: details.type, code: details.code ?? "server_error",
                message: details.message ?? "the response failed", provider: provider, model: model, apiKey: apiKey)
        case "error":
            // `{"type":"error","code":…,"message":…}`, or the same nested under `error`.
            let details = body.error.map { ErrorDetails(json: ["error": $0]) }
            throw ProviderErrors.fromStreamError(
                type: details?.type, code: details?.code ?? body.code?.stringValue,
                message: details?.message ?? body.message, provider: provider, model: model, apiKey: apiKey)
        default:
            break
        }
    }

    /// The call an event is about, by item id, else output index; created on first mention.
    private mutating func callPosition(itemId: String?, outputIndex: Int?) -> Int {
        if let itemId, let position = calls.firstIndex(where: { $0.itemId == itemId }) { return position }
        if let outputIndex, let position = calls.firstIndex(where: { $0.outputIndex == outputIndex }) {
            if calls[position].itemId == nil { calls[position].itemId = itemId }
            return position
        }
        calls.append(PartialCall(itemId: itemId, outputIndex: outputIndex, callId: "", name: "", arguments: ""))
        return calls.count - 1
    }

    mutating func finish(into output: inout [ChatStreamEvent]) throws(ModelError) {
        guard isComplete else { throw .truncated(provider: provider, model: model) }
        let ordered = calls.enumerated().sorted { ($0.element.outputIndex ?? $0.offset) < ($1.element.outputIndex ?? $1.offset) }
        for (offset, call) in ordered {
            let id = call.callId.isEmpty ? (call.itemId ?? "call_\(offset)") : call.callId
            output.append(.toolCall(ToolCall(id: id, name: call.name, arguments: call.arguments)))
        }
        if let usage { output.append(.usage(usage)) }
        let reason: FinishReason
        if sawRefusal || incompleteReason == "content_filter" {
            reason = .contentFilter
        } else if status == "incomplete" && incompleteReason == "max_output_tokens" {
            reason = .length
        } else if !calls.isEmpty {
            reason = .toolCalls
        } else {
            reason = .stop
        }
        output.append(.finish(reason))
    }

    /// Every field any handled event uses, decoded leniently in one pass: an event type we do
    /// not handle may shape a field differently, and that must not fail the stream.
    struct Event: Decodable {
        var type: String?
        var delta: String?
        var arguments: String?
        var itemId: String?
        var outputIndex: Int?
        var item: Item?
        var response: Response?
        var code: JSONValue?
        var message: String?
        var error: JSONValue?

        enum CodingKeys: String, CodingKey {
            case type, delta, arguments, item, response, code, message, error
            case itemId = "item_id"
            case outputIndex = "output_index"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            type = try? container.decodeIfPresent(String.self, forKey: .type)
            delta = try? container.decodeIfPresent(String.self, forKey: .delta)
            arguments = try? container.decodeIfPresent(String.self, forKey: .arguments)
            itemId = try? container.decodeIfPresent(String.self, forKey: .itemId)
            outputIndex = try? container.decodeIfPresent(Int.self, forKey: .outputIndex)
            item = try? container.decodeIfPresent(Item.self, forKey: .item)
            response = try? container.decodeIfPresent(Response.self, forKey: .response)
            code = try? container.decodeIfPresent(JSONValue.self, forKey: .code)
            message = try? container.decodeIfPresent(String.self, forKey: .message)
            error = try? container.decodeIfPresent(JSONValue.self, forKey: .error)
        }
    }

    struct Item: Decodable {
        var type: String?
        var id: String?
        var callId: String?
        var name: String?
        var arguments: String?
        enum CodingKeys: String, CodingKey {
            case type, id, name, arguments
            case callId = "call_id"
        }
    }

    struct Response: Decodable {
        struct Usage: Decodable {
            var inputTokens: Int?
            var outputTokens: Int?
            enum CodingKeys: String, CodingKey {
                case inputTokens = "input_tokens"
                case outputTokens = "output_tokens"
            }
        }
        struct IncompleteDetails: Decodable {
            var reason: String?
        }
        var status: String?
        var usage: Usage?
        var incompleteDetails: IncompleteDetails?
        var error: JSONValue?
        enum CodingKeys: String, CodingKey {
            case status, usage, error
            case incompleteDetails = "incomplete_details"
        }
    }
}
