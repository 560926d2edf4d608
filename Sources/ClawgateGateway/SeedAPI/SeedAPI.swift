import ClawgateMesh
import ClawgateProtocol
import Foundation

/// The seed-000 (OpenClaw coordination protocol) HTTP API over the agent mesh. Callers are
/// authenticated by the gateway's shared secret only, so, like ClawLink callers, they may act
/// for any agent of the namespace they name (the envelope's `namespace`, or `default`).
struct SeedAPI: Sendable {
    let gateway: GatewayCore

    var mesh: MeshService { gateway.mesh }

    /// The namespace when a request names none.
    static let defaultNamespace = "default"
    /// The `agent_id` of what the gateway itself says (capability responses, events nobody
    /// in particular caused).
    static let gatewayAgentId = "clawgate"

    /// A namespace named by a request: checked against `mesh.allowedNamespaces`.
    func namespace(_ requested: String?) throws(ClawLinkError) -> String {
        let namespace = requested ?? Self.defaultNamespace
        let allowed = mesh.settings.allowedNamespaces
        if !allowed.isEmpty && !allowed.contains(namespace) {
            throw ClawLinkError(.forbidden, "namespace \(namespace) is not allowed on this gateway")
        }
        return namespace
    }

    /// A registered agent of `namespace`; 404 otherwise (agents of other namespaces are invisible).
    func requireAgent(_ agentId: String, namespace: String, role: String = "agent") async throws -> MeshAgent {
        guard let agent = try await mesh.agent(agentId), agent.namespace == namespace else {
            throw ClawLinkError.notFound("unknown \(role) \(agentId) in namespace \(namespace) (register it first)")
        }
        return agent
    }
}
