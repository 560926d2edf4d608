import ClawgateProtocol

/// Everything a method handler may use: the caller and the gateway.
public struct MethodContext: Sendable {
    public let connection: ConnectionHandle
    let gateway: GatewayCore
    /// The request's id, for handlers that answer again later on the same id (`agent`).
    let requestId: String

    var isAdmin: Bool { connection.scopes.contains(OperatorScope.admin) }
}
