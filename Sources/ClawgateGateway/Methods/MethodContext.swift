import ClawgateProtocol

/// Everything a method handler may use: the caller and the gateway.
public struct MethodContext: Sendable {
    public let connection: ConnectionHandle
    let gateway: GatewayCore

    var isAdmin: Bool { connection.scopes.contains(OperatorScope.admin) }
}
