/// Failures of the agents domain, with the kind a transport maps to its own error form
/// (`INVALID_REQUEST`, HTTP 400/404/409...).
public struct AgentError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case invalidInput
        case notFound
        case conflict
        case unavailable
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public static func invalidInput(_ message: String) -> AgentError { AgentError(.invalidInput, message) }
    public static func notFound(_ message: String) -> AgentError { AgentError(.notFound, message) }

    public var description: String { message }
}
