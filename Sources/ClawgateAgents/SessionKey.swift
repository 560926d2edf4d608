/// Session keys as OpenClaw writes them: `agent:<agentId>:<rest>` (main session
/// `agent:<agentId>:main`). Other keys (`hook:<uuid>`, `global`) belong to the default agent.
public struct SessionKey: Sendable, Hashable, CustomStringConvertible {
    public let raw: String
    public let agentId: String

    /// Resolves the short forms: `main` (or empty) is the default agent's main session.
    /// `isRemote` says whether an id outside the catalog is a connected remote agent.
    public init(resolving text: String, catalog: AgentCatalog, isRemote: (String) -> Bool = { _ in false }) throws(AgentError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.count <= 512 else { throw AgentError.invalidInput("sessionKey is longer than 512 characters") }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw AgentError.invalidInput("sessionKey must not contain control characters")
        }
        if trimmed.isEmpty || trimmed == catalog.mainKey || trimmed == "main" {
            self.init(raw: "agent:\(catalog.defaultId):\(catalog.mainKey)", agentId: catalog.defaultId)
            return
        }
        let parts = trimmed.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        if parts.count >= 2, parts[0] == "agent" {
            let agentId = String(parts[1])
            guard catalog.agent(agentId) != nil || isRemote(agentId) else { throw AgentError.notFound("unknown agent \"\(agentId)\" in session key \(trimmed)") }
            let rest = parts.count == 3 ? String(parts[2]) : ""
            self.init(raw: rest.isEmpty ? "agent:\(agentId):\(catalog.mainKey)" : trimmed, agentId: agentId)
            return
        }
        self.init(raw: trimmed, agentId: catalog.defaultId)
    }

    init(raw: String, agentId: String) {
        self.raw = raw
        self.agentId = agentId
    }

    public static func main(of agentId: String, catalog: AgentCatalog) -> SessionKey {
        SessionKey(raw: "agent:\(agentId):\(catalog.mainKey)", agentId: agentId)
    }

    /// A key for a stateless call: its own lane, never stored.
    public static func ephemeral(agentId: String, runId: String) -> SessionKey {
        SessionKey(raw: "agent:\(agentId):ephemeral:\(runId)", agentId: agentId)
    }

    public var description: String { raw }
}
