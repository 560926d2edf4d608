import ClawgateMesh
import ClawgateProtocol

/// The seed's task fields (a `task_offer` payload, a `POST /tasks` body) as a mesh delegation.
///
/// - `task_id` (the client's id) → `idempotencyKey`: offering the same `task_id` again returns
///   the task created the first time; the task's own id is the gateway's `task_id`.
/// - `to_agent` (or `target_agent`) → `to`; otherwise the task is routed by
///   `requirements.skills` + `requirements.capabilities` (all of them) and
///   `requirements.agent_types` (any of them), to the least-loaded online agent; without
///   requirements to any online agent but the sender.
/// - What the mesh does not route on (`requirements.model`, `estimated_cost`, any other key, or
///   all requirements of a task sent to a named agent) is kept under the context's
///   `requirements`.
enum SeedTaskRequest {
    static let routingKeys: Set<String> = ["skills", "capabilities", "agent_types"]

    static func delegation(_ fields: ClawLinkBody) throws(ClawLinkError) -> DelegateRequest {
        guard let type = try fields.string("task_type") else { throw ClawLinkError.badRequest("task_type is required") }
        let to = try fields.string(anyOf: ["to_agent", "target_agent"])
        let priority = try ClawLinkRelay.priority(try fields.string("priority"))
        var routing: TaskRequirements?
        var kept: [String: JSONValue] = [:]
        if let requirements = try fields.object("requirements") {
            if to == nil {
                routing = TaskRequirements(
                    capabilities: try requirements.strings("capabilities"), skills: try requirements.strings("skills"),
                    agentTypes: try requirements.strings("agent_types")
                )
                kept = requirements.fields.filter { !routingKeys.contains($0.key) }
            } else {
                kept = requirements.fields
            }
        }
        if to == nil && routing == nil { routing = TaskRequirements() }
        return DelegateRequest(
            to: to, requirements: routing, type: type, description: try fields.string("description") ?? "",
            context: context(fields.value("context"), keeping: kept), files: try fields.strings("files"), priority: priority,
            deadlineMs: try fields.time("deadline"), idempotencyKey: try fields.string("task_id")
        )
    }

    /// The task's context with the kept requirements under `requirements` (an object context
    /// gains the key; any other context is wrapped as `{context, requirements}`).
    static func context(_ given: JSONValue?, keeping kept: [String: JSONValue]) -> JSONValue? {
        guard !kept.isEmpty else { return given }
        switch given {
        case nil:
            return ["requirements": .object(kept)]
        case .object(var fields)? where fields["requirements"] == nil:
            fields["requirements"] = .object(kept)
            return .object(fields)
        case let other?:
            return ["context": other, "requirements": .object(kept)]
        }
    }
}
