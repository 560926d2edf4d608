import ClawgateModels

/// One agent turn to run.
public struct RunRequest: Sendable {
    public var runId: String
    public var sessionKey: SessionKey
    public var conversation: Conversation
    /// Models to try instead of the session's or the agent's (`x-openclaw-model`).
    public var modelOverride: [ModelRef]?
    public var extraSystemPrompt: String?
    /// Functions the caller executes itself (OpenAI `tools` passthrough): calls to them end the
    /// run and are returned to the caller rather than run here.
    public var clientTools: [ToolDefinition]
    public var toolChoice: ToolChoice?
    public var maxTokens: Int?
    public var temperature: Double?
    public var topP: Double?
    public var stop: [String]
    /// Ends the run with status `timeout` after this long (queue time included).
    public var timeoutMs: Int?
    /// Whether the built-in tools are offered to the model (off for plain proxying).
    public var useBuiltinTools: Bool

    /// Where the conversation comes from.
    public enum Conversation: Sendable {
        /// A turn of a stored session: its transcript is the history, the new messages
        /// (a user message, or tool results for client tools) are appended to it.
        case session(newMessages: [ChatMessage])
        /// A stateless call: these messages are the whole conversation and nothing is stored
        /// (OpenAI-compatible requests without `user` or a session header).
        case ephemeral([ChatMessage])
    }

    public init(
        runId: String, sessionKey: SessionKey, conversation: Conversation, modelOverride: [ModelRef]? = nil,
        extraSystemPrompt: String? = nil, clientTools: [ToolDefinition] = [], toolChoice: ToolChoice? = nil, maxTokens: Int? = nil,
        temperature: Double? = nil, topP: Double? = nil, stop: [String] = [], timeoutMs: Int? = nil, useBuiltinTools: Bool = true
    ) {
        self.runId = runId
        self.sessionKey = sessionKey
        self.conversation = conversation
        self.modelOverride = modelOverride
        self.extraSystemPrompt = extraSystemPrompt
        self.clientTools = clientTools
        self.toolChoice = toolChoice
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topP = topP
        self.stop = stop
        self.timeoutMs = timeoutMs
        self.useBuiltinTools = useBuiltinTools
    }
}
