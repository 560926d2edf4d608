import ClawgateModels

/// A hosted agent as configured (`agents.list[]` merged over `agents.defaults`).
public struct AgentDefinition: Sendable, Hashable {
    public var id: String
    public var name: String?
    /// Primary model first, then the fallbacks, in the order they are tried.
    public var models: [ModelRef]
    public var systemPrompt: String?
    public var identity: AgentIdentity
    public var tools: ToolPolicy
    /// A mesh agent connected to the gateway: its turns are delegated to it, not sent to a model.
    public var isRemote = false

    /// A remote (mesh) agent seen as an agent of the catalog.
    public static func remote(id: String) -> AgentDefinition {
        var definition = AgentDefinition(id: id, name: id)
        definition.isRemote = true
        return definition
    }

    public init(
        id: String, name: String? = nil, models: [ModelRef] = [], systemPrompt: String? = nil,
        identity: AgentIdentity = AgentIdentity(), tools: ToolPolicy = ToolPolicy()
    ) {
        self.id = id
        self.name = name
        self.models = models
        self.systemPrompt = systemPrompt
        self.identity = identity
        self.tools = tools
    }
}

/// How an agent presents itself to UIs (`agent.identity.get`).
public struct AgentIdentity: Sendable, Hashable, Codable {
    public var name: String?
    public var emoji: String?
    public var theme: String?
    public var avatar: String?

    public init(name: String? = nil, emoji: String? = nil, theme: String? = nil, avatar: String? = nil) {
        self.name = name
        self.emoji = emoji
        self.theme = theme
        self.avatar = avatar
    }
}

/// Which built-in tools an agent may call: everything unless `allow` narrows it; `deny` wins.
public struct ToolPolicy: Sendable, Hashable {
    public var allow: [String]?
    public var deny: [String]

    public init(allow: [String]? = nil, deny: [String] = []) {
        self.allow = allow
        self.deny = deny
    }

    public func permits(_ tool: String) -> Bool {
        if deny.contains(tool) { return false }
        guard let allow else { return true }
        return allow.contains(tool)
    }
}
