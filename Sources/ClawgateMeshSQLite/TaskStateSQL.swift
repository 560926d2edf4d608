import ClawgateMesh

/// The conditions of the partial task indexes (migrations `v3-partial-indexes` and
/// `v4-fewer-index-writes`), as SQL.
///
/// SQLite uses a partial index only when the query repeats its condition term for term, so the
/// migration and the queries share these strings; the queries name their index (`INDEXED BY`),
/// so a condition that no longer matches fails loudly instead of scanning the table. They are frozen with the migrations: a new
/// task state, or any other change here, needs a new migration that recreates the indexes (the
/// tests check each set against `TaskState` and that the queries use the indexes).
enum TaskStateSQL {
    /// Tasks that count against their assignee (`TaskState.occupiesAssignee`).
    static let active = "state IN ('offered', 'accepted', 'in_progress')"
    /// Tasks that are not terminal (`!TaskState.isTerminal`).
    static let open = "state IN ('queued', 'offered', 'accepted', 'in_progress')"
    /// Terminal tasks (`TaskState.isTerminal`).
    static let terminal = "state IN ('completed', 'failed', 'rejected', 'canceled', 'expired', 'dead_lettered')"
    /// Tasks waiting for an agent.
    static let queued = "state = 'queued'"

    /// The states `condition` names, for the tests.
    static func states(in condition: String) -> Set<String> {
        Set(condition.split(separator: "'").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) })
    }
}
