import AsyncHTTPClient
import ClawgateProtocol
import Foundation
import Logging
import NIOCore

/// The Anthropic Messages API (`POST {baseURL}/v1/messages`, `anthropic-version: 2023-06-01`).
///
/// `baseURL` is the host root (`https://api.anthropic.com`); one that already ends in `/v1` is
/// used as is. Tool results travel as `tool_result` blocks of a user turn, tool calls as
/// `tool_use` blocks of an assistant turn, and `max_tokens` is mandatory (4096 when unset).
public struct AnthropicMessagesProvider: ModelProvider {
    public static let apiVersion = "2023-06-01"
    /// Anthropic requires `max_tokens`; this is what a request without one gets.
    public static let defaultMaxTokens = 4096

    public let config: ProviderConfig
    let http: ProviderHTTP

    /// `responseHeadTimeout` bounds the wait for the response head only (see `ProviderHTTP`).
    public init(
        config: ProviderConfig, httpClient: ModelHTTPClients, logger: Logger, responseHeadTimeout: TimeAmount = .seconds(600),
        deadlines: DeadlineScheduler = DeadlineScheduler()
    ) {
        self.config = config
        var headers = [("anthropic-version", Self.apiVersion)]
        if let key = config.apiKey { headers.append(("x-api-key", key.reveal())) }
        self.http = ProviderHTTP(
            config: config, clients: httpClient, logger: logger, apiHeaders: headers, responseHeadTimeout: responseHeadTimeout,
            deadlines: deadlines)
    }

    /// `{baseURL}/v1/messages`, or `{baseURL}/messages` when the base already names `/v1`.
    var messagesURL: String {
        let base = http.url("")
        return base.hasSuffix("/v1") ? base + "/messages" : base + "/v1/messages"
    }

    public func streamChat(_ request: ChatRequest) async throws -> AsyncThrowingStream<ChatStreamEvent, any Error> {
        let response = try await http.post(messagesURL, body: Self.requestBody(request), model: request.model, streaming: true)
        let decoder = AnthropicMessagesStreamDecoder(provider: config.id, model: request.model, apiKey: config.apiKey)
        return http.stream(response, decoder: decoder, model: request.model)
    }

    public func embed(_ request: EmbeddingRequest) async throws -> EmbeddingResult {
        throw ModelError(
            kind: .unknown, message: "the anthropic-messages API has no embeddings endpoint", provider: config.id,
            model: request.model, retryable: false)
    }

    // MARK: Request

    static func requestBody(_ request: ChatRequest) -> JSONValue {
        var system: [String] = []
        var messages: [JSONValue] = []
        var toolResults: [JSONValue] = []

        /// Consecutive tool results become one user turn (the API wants turns to alternate).
        func flushToolResults() {
            guard !toolResults.isEmpty else { return }
            messages.append(["role": "user", "content": .array(toolResults)])
            toolResults.removeAll()
        }

        for message in request.messages {
            switch message.role {
            case .system:
                system.append(message.text)
            case .tool:
                toolResults.append([
                    "type": "tool_result", "tool_use_id": .string(message.toolCallId ?? ""), "content": .string(message.text),
                ])
            case .user:
                flushToolResults()
                messages.append(["role": "user", "content": .string(message.text)])
            case .assistant:
                flushToolResults()
                if message.toolCalls.isEmpty {
                    messages.append(["role": "assistant", "content": .string(message.text)])
                } else {
                    var blocks: [JSONValue] = []
                    // Empty text blocks are rejected by the API.
                    if !message.text.isEmpty { blocks.append(["type": "text", "text": .string(message.text)]) }
                    for call in message.toolCalls {
                        blocks.append([
                            "type": "tool_use", "id": .string(call.id), "name": .string(call.name),
                            "input": toolInput(call.arguments),
                        ])
                    }
                    messages.append(["role": "assistant", "content": .array(blocks)])
                }
            }
        }
        flushToolResults()

        var body: [String: JSONValue] = [
            "model": .string(request.model),
            "max_tokens": .int(request.maxTokens ?? defaultMaxTokens),
            "messages": .array(messages),
            "stream": true,
        ]
        if !system.isEmpty { body["system"] = .string(system.joined(separator: "\n\n")) }
        if !request.tools.isEmpty {
            body["tools"] = .array(
                request.tools.map { tool in
                    ["name": .string(tool.name), "description": .string(tool.description), "input_schema": tool.parameters]
                })
        }
        if let choice = request.toolChoice {
            switch choice {
            case .auto: body["tool_choice"] = ["type": "auto"]
            case .none: body["tool_choice"] = ["type": "none"]
            case .required: body["tool_choice"] = ["type": "any"]
            case .function(let name): body["tool_choice"] = ["type": "tool", "name": .string(name)]
            }
        }
        if let temperature = request.temperature { body["temperature"] = .double(temperature) }
        if let topP = request.topP { body["top_p"] = .double(topP) }
        if !request.stop.isEmpty { body["stop_sequences"] = .array(request.stop.map(JSONValue.string)) }
        return .object(body)
    }

    /// `tool_use.input` must be an object: the call's arguments parsed, `{}` when they are not
    /// a JSON object (the model's bad JSON was already reported to it by the tool).
    static func toolInput(_ arguments: String) -> JSONValue {
        guard let value = try? JSONCoding.decode(JSONValue.self, from: Data(arguments.utf8)), value.objectValue != nil else {
            return .object([:])
        }
        return value
    }
}

/// The Messages event stream: `message_start` (input usage), content blocks (text, or tool_use
/// whose input arrives as `input_json_delta` fragments), `message_delta` (stop reason, output
/// usage) and `message_stop`.
struct AnthropicMessagesStreamDecoder: ChatStreamDecoder {
    let provider: String
    let model: String
    let apiKey: APIKey?

    private(set) var isComplete = false
    private var toolUses: [PartialToolUse] = []
    private var inputTokens: Int?
    private var outputTokens: Int?
    private var stopReason: String?

    private struct PartialToolUse {
        var index: Int
        var id: String
        var name: String
        var json: String
    }

    init(provider: String, model: String, apiKey: APIKey?) {
        self.provider = provider
        self.model = model
        self.apiKey = apiKey
    }

    mutating func consume(_ event: ServerSentEvent, into output: inout [ChatStreamEvent]) throws(ModelError) {
        let body = try decodeEventData(Event.self, event, provider: provider, model: model)
        switch body.type ?? event.event ?? "" {
        case "message_start":
            if let usage = body.message?.usage { record(usage) }
        case "content_block_start":
            guard let block = body.contentBlock else { return }
            if block.type == "tool_use" {
                toolUses.append(PartialToolUse(index: body.index ?? toolUses.count, id: block.id ?? "", name: block.name ?? "", json: ""))
            } else if block.type == "text", let text = block.text, !text.isEmpty {
                output.append(.textDelta(text))
            }
        case "content_block_delta":
            guard let delta = body.delta else { return }
            switch delta.type {
            case "text_delta":
                if let text = delta.text, !text.isEmpty { output.append(.textDelta(text)) }
            case "input_json_delta":
                let index = body.index ?? toolUses.last?.index
                if let position = toolUses.lastIndex(where: { $0.index == index }) {
                    toolUses[position].json += delta.partialJSON ?? ""
                }
            default:
                break  // thinking and signature deltas are not part of the answer
            }
        case "message_delta":
            if let reason = body.delta?.stopReason { stopReason = reason }
            if let usage = body.usage { record(usage) }
        case "message_stop":
            isComplete = true
        case "error":
            let details = body.error.map { ErrorDetails(json: ["error": $0]) } ?? ErrorDetails()
            throw ProviderErrors.fromStreamError(
                type: details.type, code: details.code, message: details.message, provider: provider, model: model,
                apiKey: apiKey)
        default:
            break  // ping, content_block_stop, future event types
        }
    }

    /// Input counts every prompt token, cached or not; output is cumulative in `message_delta`.
    private mutating func record(_ usage: Event.Usage) {
        if usage.inputTokens != nil || usage.cacheCreationInputTokens != nil || usage.cacheReadInputTokens != nil {
            inputTokens = (usage.inputTokens ?? 0) + (usage.cacheCreationInputTokens ?? 0) + (usage.cacheReadInputTokens ?? 0)
        }
        if let output = usage.outputTokens { outputTokens = output }
    }

    mutating func finish(into output: inout [ChatStreamEvent]) throws(ModelError) {
        guard isComplete || stopReason != nil else { throw .truncated(provider: provider, model: model) }
        for use in toolUses.sorted(by: { $0.index < $1.index }) {
            let arguments = use.json.isEmpty ? "{}" : use.json
            let id = use.id.isEmpty ? "toolu_\(use.index)" : use.id
            output.append(.toolCall(ToolCall(id: id, name: use.name, arguments: arguments)))
        }
        if inputTokens != nil || outputTokens != nil {
            output.append(.usage(TokenUsage(input: inputTokens ?? 0, output: outputTokens ?? 0)))
        }
        output.append(.finish(Self.finishReason(stopReason, hasToolCalls: !toolUses.isEmpty)))
    }

    static func finishReason(_ stopReason: String?, hasToolCalls: Bool) -> FinishReason {
        switch stopReason {
        case "max_tokens": .length
        case "tool_use": .toolCalls
        case "refusal": .contentFilter
        case nil: hasToolCalls ? .toolCalls : .stop
        default: .stop  // end_turn, stop_sequence, pause_turn
        }
    }

    /// Every field the handled events use, decoded leniently (unknown events may differ).
    struct Event: Decodable {
        struct Usage: Decodable {
            var inputTokens: Int?
            var outputTokens: Int?
            var cacheCreationInputTokens: Int?
            var cacheReadInputTokens: Int?
            enum CodingKeys: String, CodingKey {
                case inputTokens = "input_tokens"
                case outputTokens = "output_tokens"
                case cacheCreationInputTokens = "cache_creation_input_tokens"
                case cacheReadInputTokens = "cache_read_input_tokens"
            }
        }
        struct Message: Decodable {
            var usage: Usage?
        }
        struct ContentBlock: Decodable {
            var type: String?
            var id: String?
            var name: String?
            var text: String?
        }
        struct Delta: Decodable {
            var type: String?
            var text: String?
            var partialJSON: String?
            var stopReason: String?
            enum CodingKeys: String, CodingKey {
                case type, text
                case partialJSON = "partial_json"
                case stopReason = "stop_reason"
            }
        }

        var type: String?
        var index: Int?
        var message: Message?
        var contentBlock: ContentBlock?
        var delta: Delta?
        var usage: Usage?
        var error: JSONValue?

        enum CodingKeys: String, CodingKey {
            case type, index, message, delta, usage, error
            case contentBlock = "content_block"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            type = try? container.decodeIfPresent(String.self, forKey: .type)
            index = try? container.decodeIfPresent(Int.self, forKey: .index)
            message = try? container.decodeIfPresent(Message.self, forKey: .message)
            contentBlock = try? container.decodeIfPresent(ContentBlock.self, forKey: .contentBlock)
            delta = try? container.decodeIfPresent(Delta.self, forKey: .delta)
            usage = try? container.decodeIfPresent(Usage.self, forKey: .usage)
            error = try? container.decodeIfPresent(JSONValue.self, forKey: .error)
        }
    }
}
