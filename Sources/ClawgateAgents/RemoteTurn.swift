/// One chat turn for a remote agent: what the gateway hands over the mesh.
public struct RemoteTurn: Sendable, Hashable {
    public var agentId: String
    public var sessionKey: String
    public var runId: String
    public var message: String

    public init(agentId: String, sessionKey: String, runId: String, message: String) {
        self.agentId = agentId
        self.sessionKey = sessionKey
        self.runId = runId
        self.message = message
    }
}
