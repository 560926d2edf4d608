import ClawgateModels

/// The hosted-agent parts of an OpenClaw config (`models`, `agents`, `session`, `hooks`,
/// `gateway.http`, `gateway.tools`), with OpenClaw's key names. Absent means default.
public struct AgentsConfig: Sendable, Equatable {
    public var providers: [ProviderEntry] = []
    public var timeouts = Timeouts()
    public var retry = Retry()
    public var defaults = AgentEntry(id: "")
    public var list: [AgentEntry] = []
    public var mainKey: String?
    public var chatCompletionsEnabled: Bool?
    public var responsesEnabled: Bool?
    public var maxBodyBytes: Int?
    public var toolsAllow: [String] = []
    public var toolsDeny: [String] = []
    public var hooks = Hooks()

    public init() {}

    /// `models.providers.<id>`.
    public struct ProviderEntry: Sendable, Equatable {
        public var id: String
        public var baseUrl: String
        public var apiKey: SecretReference?
        public var api: ModelAPI
        public var headers: [String: String]
        public var models: [ModelDefinition]

        public init(
            id: String, baseUrl: String, apiKey: SecretReference?, api: ModelAPI, headers: [String: String], models: [ModelDefinition]
        ) {
            self.id = id
            self.baseUrl = baseUrl
            self.apiKey = apiKey
            self.api = api
            self.headers = headers
            self.models = models
        }
    }

    /// A secret given in the file, or the name of an environment variable holding it
    /// (`"${NAME}"` or `{source: "env", id: "NAME"}`), resolved when settings are built.
    public enum SecretReference: Sendable, Equatable {
        case literal(Secret)
        case environment(String)
    }

    /// `models.timeouts` (Clawgate's key): connect, first token, whole request.
    public struct Timeouts: Sendable, Equatable {
        public var connectMs: Int?
        public var firstTokenMs: Int?
        public var totalMs: Int?
    }

    /// `models.retry` (Clawgate's key).
    public struct Retry: Sendable, Equatable {
        public var maxAttempts: Int?
        public var initialBackoffMs: Int?
        public var maxBackoffMs: Int?
    }

    /// `agents.defaults` / `agents.list[]`.
    public struct AgentEntry: Sendable, Equatable {
        public var id: String
        public var isDefault = false
        public var name: String?
        public var primaryModel: String?
        public var fallbackModels: [String]?
        public var systemPrompt: String?
        public var identityName: String?
        public var identityEmoji: String?
        public var identityTheme: String?
        public var identityAvatar: String?
        public var toolsAllow: [String]?
        public var toolsDeny: [String]?
        /// `agents.defaults.embeddingModel` (Clawgate's key): the model behind `/v1/embeddings`.
        public var embeddingModel: String?

        public init(id: String) {
            self.id = id
        }
    }

    /// `hooks`.
    public struct Hooks: Sendable, Equatable {
        public var enabled: Bool?
        public var token: Secret?
        public var path: String?
        public var maxBodyBytes: Int?
    }
}
