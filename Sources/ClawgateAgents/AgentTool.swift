import ClawgateModels
import ClawgateProtocol

/// A tool a hosted agent can call through the provider's function calling, and that
/// `/tools/invoke` exposes over HTTP.
public protocol AgentTool: Sendable {
    var name: String { get }
    var description: String { get }
    /// JSON Schema of the arguments object.
    var parameters: JSONValue { get }
    /// Whether the tool acts on the world beyond reading (delegating work, writing files):
    /// such tools are denied over HTTP unless `gateway.tools.allow` names them.
    var isDangerous: Bool { get }
    func invoke(arguments: JSONValue, context: ToolContext) async throws -> JSONValue
}

extension AgentTool {
    public var definition: ToolDefinition {
        ToolDefinition(name: name, description: description, parameters: parameters)
    }
}

/// Who is calling a tool.
public struct ToolContext: Sendable {
    public var agentId: String
    public var sessionKey: String?
    public var runId: String?

    public init(agentId: String, sessionKey: String? = nil, runId: String? = nil) {
        self.agentId = agentId
        self.sessionKey = sessionKey
        self.runId = runId
    }
}

/// A tool failure reported back to the model (as an error tool result) or to the HTTP caller.
public struct ToolError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The built-in tools by name.
public struct ToolRegistry: Sendable {
    public private(set) var tools: [String: any AgentTool] = [:]

    public init(_ tools: [any AgentTool] = []) {
        for tool in tools { self.tools[tool.name] = tool }
    }

    public mutating func add(_ tool: any AgentTool) {
        tools[tool.name] = tool
    }

    public func tool(_ name: String) -> (any AgentTool)? { tools[name] }

    /// The tools an agent may use, sorted by name (a stable order keeps prompts cacheable).
    public func available(to policy: ToolPolicy) -> [any AgentTool] {
        tools.values.filter { policy.permits($0.name) }.sorted { $0.name < $1.name }
    }
}
