import ClawgateAgents
import ClawgateModels

/// The effective hosted-agent settings: providers with their keys resolved, the agent
/// catalog, model timeouts and retries, and which HTTP surfaces are on.
public struct AgentsSettings: Sendable {
    public var providers: [ProviderConfig] = []
    public var catalog = AgentCatalog(agents: [])
    public var retry = RetryPolicy()
    public var timeouts = ModelTimeouts()
    /// `/v1/chat/completions` (and `/v1/models`, `/v1/embeddings`); off by default as in OpenClaw.
    public var chatCompletionsEnabled = false
    /// `/v1/responses` (and `/v1/models`, `/v1/embeddings`).
    public var responsesEnabled = false
    /// Largest request body on the OpenAI-compatible endpoints.
    public var maxBodyBytes = 20 * 1024 * 1024
    /// `/tools/invoke` over HTTP: tools named here are allowed even when dangerous; `deny` wins.
    public var httpToolsAllow: [String] = []
    public var httpToolsDeny: [String] = []
    public var hooksEnabled = false
    public var hooksToken: Secret?
    public var hooksPath = "/hooks"
    public var hooksMaxBodyBytes = 256 * 1024
    /// The model `/v1/embeddings` uses unless the request names one.
    public var embeddingModel: ModelRef?

    public init() {}

    var openAIModelsEnabled: Bool { chatCompletionsEnabled || responsesEnabled }

    static func resolve(_ config: AgentsConfig, environment: [String: String]) throws(GatewayStartupError) -> AgentsSettings {
        var settings = AgentsSettings()
        for entry in config.providers {
            var key: APIKey?
            switch entry.apiKey {
            case .none:
                key = nil
            case .literal(let secret):
                key = APIKey(secret.reveal())
            case .environment(let name):
                guard let value = environment[name], !value.isEmpty else {
                    throw .configInvalid("models.providers.\(entry.id).apiKey: the environment variable \(name) is not set")
                }
                key = APIKey(value)
            }
            settings.providers.append(
                ProviderConfig(id: entry.id, baseURL: entry.baseUrl, apiKey: key, api: entry.api, headers: entry.headers, models: entry.models)
            )
        }
        let providerIds = Set(settings.providers.map(\.id))
        func refs(_ entry: AgentsConfig.AgentEntry, path: String) throws(GatewayStartupError) -> [ModelRef] {
            let primary = entry.primaryModel ?? config.defaults.primaryModel
            let fallbacks = entry.fallbackModels ?? config.defaults.fallbackModels ?? []
            var result: [ModelRef] = []
            for text in (primary.map { [$0] } ?? []) + fallbacks {
                guard let ref = ModelRef(parsing: text) else { continue }
                guard providerIds.contains(ref.provider) else {
                    throw .configInvalid("\(path).model: unknown provider \"\(ref.provider)\" in \"\(text)\" (add models.providers.\(ref.provider))")
                }
                if !result.contains(ref) { result.append(ref) }
            }
            return result
        }
        func definition(_ entry: AgentsConfig.AgentEntry, id: String, path: String) throws(GatewayStartupError) -> AgentDefinition {
            AgentDefinition(
                id: id, name: entry.name, models: try refs(entry, path: path),
                systemPrompt: entry.systemPrompt ?? config.defaults.systemPrompt,
                identity: AgentIdentity(name: entry.identityName, emoji: entry.identityEmoji, theme: entry.identityTheme, avatar: entry.identityAvatar),
                tools: ToolPolicy(allow: entry.toolsAllow ?? config.defaults.toolsAllow, deny: (config.defaults.toolsDeny ?? []) + (entry.toolsDeny ?? []))
            )
        }
        var agents: [AgentDefinition] = []
        if config.list.isEmpty {
            agents.append(try definition(config.defaults, id: AgentCatalog.fallbackDefaultId, path: "agents.defaults"))
        } else {
            for (index, entry) in config.list.enumerated() {
                agents.append(try definition(entry, id: entry.id, path: "agents.list[\(index)]"))
            }
        }
        settings.catalog = AgentCatalog(
            agents: agents, defaultId: config.list.first(where: \.isDefault)?.id, mainKey: config.mainKey ?? "main"
        )
        if let text = config.defaults.embeddingModel, let ref = ModelRef(parsing: text) {
            guard providerIds.contains(ref.provider) else {
                throw .configInvalid("agents.defaults.embeddingModel: unknown provider \"\(ref.provider)\" (add models.providers.\(ref.provider))")
            }
            settings.embeddingModel = ref
        }
        if let v = config.retry.maxAttempts { settings.retry.maxAttempts = v }
        if let v = config.retry.initialBackoffMs { settings.retry.initialBackoffMs = v }
        if let v = config.retry.maxBackoffMs { settings.retry.maxBackoffMs = v }
        if let v = config.timeouts.connectMs { settings.timeouts.connectMs = v }
        if let v = config.timeouts.firstTokenMs { settings.timeouts.firstTokenMs = v }
        if let v = config.timeouts.totalMs { settings.timeouts.totalMs = v }
        settings.chatCompletionsEnabled = config.chatCompletionsEnabled ?? false
        settings.responsesEnabled = config.responsesEnabled ?? false
        if let v = config.maxBodyBytes { settings.maxBodyBytes = v }
        settings.httpToolsAllow = config.toolsAllow
        settings.httpToolsDeny = config.toolsDeny
        settings.hooksEnabled = config.hooks.enabled ?? false
        settings.hooksToken = config.hooks.token
        if let path = config.hooks.path { settings.hooksPath = path.hasSuffix("/") ? String(path.dropLast()) : path }
        if let v = config.hooks.maxBodyBytes { settings.hooksMaxBodyBytes = v }
        return settings
    }
}
