import ClawgateProtocol

/// The wire dialect a provider speaks (`models.providers.<id>.api`).
public enum ModelAPI: String, Sendable, Hashable, CaseIterable {
    case openAICompletions = "openai-completions"
    case openAIResponses = "openai-responses"
    case anthropicMessages = "anthropic-messages"
}

/// `provider/model`, split on the first `/` (a model id may contain more slashes).
public struct ModelRef: Sendable, Hashable, CustomStringConvertible {
    public var provider: String
    public var model: String

    public init(provider: String, model: String) {
        self.provider = provider
        self.model = model
    }

    public init?(parsing text: String) {
        guard let slash = text.firstIndex(of: "/") else { return nil }
        let provider = String(text[..<slash])
        let model = String(text[text.index(after: slash)...])
        guard !provider.isEmpty, !model.isEmpty else { return nil }
        self.init(provider: provider, model: model)
    }

    public var description: String { "\(provider)/\(model)" }
}

/// One model a provider offers (`models.providers.<id>.models[]`).
public struct ModelDefinition: Sendable, Hashable {
    public var id: String
    public var name: String?
    public var contextWindow: Int?
    public var maxTokens: Int?

    public init(id: String, name: String? = nil, contextWindow: Int? = nil, maxTokens: Int? = nil) {
        self.id = id
        self.name = name
        self.contextWindow = contextWindow
        self.maxTokens = maxTokens
    }
}

/// An upstream API key. Printing or dumping it shows `<redacted>`, so a key cannot reach a log
/// line or an error message by accident; `reveal()` is the one greppable way to the value.
public struct APIKey: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String
    public init(_ value: String) { self.value = value }
    public func reveal() -> String { value }
    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: []) }
}

/// A configured provider (`models.providers.<id>`), with its API key already resolved.
public struct ProviderConfig: Sendable, Hashable {
    public var id: String
    /// Base URL including any version path, e.g. `http://127.0.0.1:4000/v1`.
    public var baseURL: String
    public var apiKey: APIKey?
    public var api: ModelAPI
    /// Extra headers sent with every request (never logged: they may carry credentials).
    public var headers: [String: String]
    public var models: [ModelDefinition]

    public init(
        id: String, baseURL: String, apiKey: APIKey?, api: ModelAPI, headers: [String: String] = [:], models: [ModelDefinition] = []
    ) {
        self.id = id
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.api = api
        self.headers = headers
        self.models = models
    }
}

public enum ChatRole: String, Sendable, Hashable, Codable {
    case system, user, assistant, tool
}

/// A function call requested by the model. `arguments` is the JSON text the model produced
/// (kept as text: models emit invalid JSON at times, and the tool reports that, not the parser).
public struct ToolCall: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var arguments: String

    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}

/// One message of a conversation in provider-neutral form.
public struct ChatMessage: Sendable, Hashable {
    public var role: ChatRole
    public var text: String
    /// Calls made by an assistant message.
    public var toolCalls: [ToolCall]
    /// For `role == .tool`: the call this message answers.
    public var toolCallId: String?
    /// For `role == .tool`: the tool's name (Anthropic and Responses need it less, OpenAI accepts it).
    public var name: String?

    public init(role: ChatRole, text: String, toolCalls: [ToolCall] = [], toolCallId: String? = nil, name: String? = nil) {
        self.role = role
        self.text = text
        self.toolCalls = toolCalls
        self.toolCallId = toolCallId
        self.name = name
    }
}

/// A function the model may call; `parameters` is a JSON Schema object.
public struct ToolDefinition: Sendable, Hashable {
    public var name: String
    public var description: String
    public var parameters: JSONValue

    public init(name: String, description: String, parameters: JSONValue) {
        self.name = name
        self.description = description
        self.parameters = parameters
    }
}

public enum ToolChoice: Sendable, Hashable {
    case auto
    case none
    case required
    case function(String)
}

/// A chat request to one provider model.
public struct ChatRequest: Sendable, Hashable {
    /// The provider's own model id (the part after `provider/`).
    public var model: String
    public var messages: [ChatMessage]
    public var tools: [ToolDefinition]
    public var toolChoice: ToolChoice?
    public var maxTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var stop: [String]

    public init(
        model: String, messages: [ChatMessage], tools: [ToolDefinition] = [], toolChoice: ToolChoice? = nil,
        maxTokens: Int? = nil, temperature: Double? = nil, topP: Double? = nil, stop: [String] = []
    ) {
        self.model = model
        self.messages = messages
        self.tools = tools
        self.toolChoice = toolChoice
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topP = topP
        self.stop = stop
    }
}

public struct TokenUsage: Sendable, Hashable, Codable {
    public var input: Int
    public var output: Int
    public var total: Int { input + output }

    public init(input: Int, output: Int) {
        self.input = input
        self.output = output
    }

    public static let zero = TokenUsage(input: 0, output: 0)

    public static func + (lhs: TokenUsage, rhs: TokenUsage) -> TokenUsage {
        TokenUsage(input: lhs.input + rhs.input, output: lhs.output + rhs.output)
    }
}

/// Why the model stopped, normalised across APIs (OpenAI's names).
public enum FinishReason: String, Sendable, Hashable, Codable {
    case stop
    case length
    case toolCalls = "tool_calls"
    case contentFilter = "content_filter"
}

/// What a streaming chat produces, in order: text deltas as they arrive, then complete tool
/// calls (assembled from the API's fragments), usage when the API reports it, and exactly one
/// `finish` last.
public enum ChatStreamEvent: Sendable, Hashable {
    case textDelta(String)
    case toolCall(ToolCall)
    case usage(TokenUsage)
    case finish(FinishReason)
}

/// A whole (non-streamed) answer, as collected from a stream.
public struct ChatCompletion: Sendable, Hashable {
    public var text: String
    public var toolCalls: [ToolCall]
    public var usage: TokenUsage?
    public var finishReason: FinishReason

    public init(text: String, toolCalls: [ToolCall], usage: TokenUsage?, finishReason: FinishReason) {
        self.text = text
        self.toolCalls = toolCalls
        self.usage = usage
        self.finishReason = finishReason
    }
}

public struct EmbeddingRequest: Sendable, Hashable {
    public var model: String
    public var input: [String]
    public var dimensions: Int?

    public init(model: String, input: [String], dimensions: Int? = nil) {
        self.model = model
        self.input = input
        self.dimensions = dimensions
    }
}

public struct EmbeddingResult: Sendable, Hashable {
    public var vectors: [[Float]]
    public var usage: TokenUsage

    public init(vectors: [[Float]], usage: TokenUsage) {
        self.vectors = vectors
        self.usage = usage
    }
}

/// Error kinds clients can act on (the `errorKind` of `chat` events, plus `auth`).
public enum ModelErrorKind: String, Sendable, Hashable, Codable {
    case refusal
    case timeout
    case rateLimit = "rate_limit"
    case contextLength = "context_length"
    case auth
    case unknown
}

/// A provider failure. `message` never contains the API key or request headers.
public struct ModelError: Error, Sendable, Hashable, CustomStringConvertible {
    public var kind: ModelErrorKind
    public var message: String
    public var provider: String
    public var model: String
    public var httpStatus: Int?
    /// Whether trying again (same or next model) may help: 429, 5xx, timeouts, connection errors.
    public var retryable: Bool
    /// How long the upstream asked us to wait (`Retry-After` / `retry-after-ms`), if it said.
    public var retryAfterMs: Int?

    public init(
        kind: ModelErrorKind, message: String, provider: String, model: String, httpStatus: Int? = nil, retryable: Bool,
        retryAfterMs: Int? = nil
    ) {
        self.kind = kind
        self.message = message
        self.provider = provider
        self.model = model
        self.httpStatus = httpStatus
        self.retryable = retryable
        self.retryAfterMs = retryAfterMs
    }

    public var description: String {
        "\(provider)/\(model): \(kind.rawValue)\(httpStatus.map { " (HTTP \($0))" } ?? ""): \(message)"
    }
}

/// One provider endpoint speaking one API. Implementations must stop the upstream request when
/// the consumer stops iterating or its task is cancelled.
public protocol ModelProvider: Sendable {
    var config: ProviderConfig { get }
    func streamChat(_ request: ChatRequest) async throws -> AsyncThrowingStream<ChatStreamEvent, any Error>
    /// Throws a `ModelError` of kind `.unknown` when the API has no embeddings endpoint.
    func embed(_ request: EmbeddingRequest) async throws -> EmbeddingResult
}
