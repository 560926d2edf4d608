import ClawgateMesh
import ClawgateProtocol

/// `state_sync` → mesh `state.set` on a per-namespace state document.
extension SeedAPI {
    static let defaultStateKey = "session"
    /// Payload keys that steer the write rather than being state.
    static let stateControlKeys: Set<String> = ["key", "state", "conflict_policy", "policy", "version", "namespace"]

    /// Payload: `key` (default `session`), `state` (the document; without it, the payload's
    /// other keys are the state, as in the seed's example), `conflict_policy`
    /// (`last-write-wins` default, `merge`, `reject`), `version` (required by `reject`: the
    /// version the writer read, 0 for a new document; a mismatch is a 409).
    func stateSync(_ message: SeedEnvelope, namespace: String) async throws -> JSONValue {
        _ = try await requireAgent(message.agentId, namespace: namespace)
        let payload = message.payload
        let key = try payload.string("key") ?? Self.defaultStateKey
        let value: JSONValue
        if let state = payload.value("state") {
            value = state
        } else {
            let rest = payload.fields.filter { !Self.stateControlKeys.contains($0.key) }
            guard !rest.isEmpty else { throw ClawLinkError.badRequest("payload.state is required (the state to sync)") }
            value = .object(rest)
        }
        var policy = ConflictPolicy.lastWriteWins
        if let raw = try payload.string("conflict_policy") ?? payload.string("policy") {
            guard let parsed = ConflictPolicy(parsing: raw) else {
                throw ClawLinkError.badRequest("conflict_policy must be one of last-write-wins, merge, reject, not \(raw)")
            }
            policy = parsed
        }
        let version = try payload.integer("version")
        if policy == .reject && version == nil {
            throw ClawLinkError.badRequest("conflict_policy reject needs version: the version you read (0 for a new document)")
        }
        let document = try await mesh.setState(by: message.agentId, key: key, value: value, policy: policy, ifVersion: version)
        return ["status": "synced", "conflict_policy": .string(policy.rawValue), "state": SeedRecords.state(document)]
    }
}
