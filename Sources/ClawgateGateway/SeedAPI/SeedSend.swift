import ClawgateMesh
import ClawgateProtocol

/// `POST /api/openclaw/send`: one seed message, dispatched on `message_type`. Every message but
/// `register` needs a registered `agent_id` of the namespace (404 otherwise).
extension SeedAPI {
    func send(_ body: ClawLinkBody, peer: String?) async throws -> JSONValue {
        let message = try SeedEnvelope.parse(body)
        let namespace = try namespace(message.namespace)
        var answer: JSONValue
        switch message.messageType {
        case .register: answer = try await register(message, namespace: namespace, peer: peer)
        case .heartbeat: answer = try await heartbeat(message, namespace: namespace)
        case .taskOffer: answer = try await offer(message, namespace: namespace)
        case .taskAccept: answer = try await accept(message, namespace: namespace)
        case .taskReject: answer = try await reject(message, namespace: namespace)
        case .taskUpdate: answer = try await update(message, namespace: namespace)
        case .taskComplete: answer = try await complete(message, namespace: namespace)
        case .stateSync: answer = try await stateSync(message, namespace: namespace)
        case .capabilityQuery: return try await capabilityQuery(message, namespace: namespace)
        case .capabilityResponse:
            throw ClawLinkError.badRequest("capability_response is the gateway's answer to a capability_query; send capability_query")
        }
        // Plain answers say what they answer.
        if case .object(var fields) = answer {
            fields["message_type"] = .string(message.messageType.rawValue)
            fields["agent_id"] = .string(message.agentId)
            fields["namespace"] = .string(namespace)
            fields["server_time"] = .string(SeedRecords.now())
            answer = .object(fields)
        }
        return answer
    }
}
