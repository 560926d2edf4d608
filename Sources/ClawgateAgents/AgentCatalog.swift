/// The configured hosted agents. There is always at least one: without `agents.list` the
/// catalog holds the default agent `main`, so a zero-configuration gateway has an agent to talk to.
public struct AgentCatalog: Sendable, Hashable {
    public private(set) var agents: [AgentDefinition]
    public let defaultId: String
    /// The per-agent main session name (`session.mainKey`).
    public let mainKey: String

    public static let fallbackDefaultId = "main"

    public init(agents: [AgentDefinition], defaultId: String? = nil, mainKey: String = "main") {
        let list = agents.isEmpty ? [AgentDefinition(id: Self.fallbackDefaultId)] : agents
        self.agents = list
        self.defaultId = defaultId.flatMap { id in list.contains { $0.id == id } ? id : nil } ?? list[0].id
        self.mainKey = mainKey
    }

    public func agent(_ id: String) -> AgentDefinition? {
        agents.first { $0.id == id }
    }

    public var defaultAgent: AgentDefinition {
        agent(defaultId) ?? agents[0]
    }
}
