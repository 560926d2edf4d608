import ClawgateProtocol

/// Durable storage of the mesh. The domain never sees SQL: it reads aggregates and commits a
/// `MeshChange` (a unit of work) that the store applies atomically. An SQLite implementation
/// ships now; a PostgreSQL one implements the same protocol for replicas sharing one database.
///
/// The mesh actor runs on the store's `executor` and every requirement is
/// `nonisolated(nonsending)`: store calls run on that executor instead of hopping to another
/// thread and back, which was most of a mesh call's latency. A store may block on it (it is the
/// store's own thread, not a shared pool).
public protocol MeshStore: Sendable {
    /// Where the mesh actor (and so every store call it makes) runs.
    var executor: any SerialExecutor { get }
    /// The same thread as a task executor, for work that mostly calls the mesh (a mesh agent's
    /// socket): each call then starts and ends there instead of costing a thread hand-off, with
    /// its wake-up, each way. A store without a thread of its own leaves the global executor.
    var taskExecutor: any TaskExecutor { get }

    nonisolated(nonsending) func agent(id: String) async throws -> MeshAgent?
    nonisolated(nonsending) func agents(namespace: String?) async throws -> [MeshAgent]

    nonisolated(nonsending) func task(id: String) async throws -> MeshTask?
    nonisolated(nonsending) func task(namespace: String, from: String, idempotencyKey: String) async throws -> MeshTask?
    nonisolated(nonsending) func tasks(_ query: TaskQuery) async throws -> [MeshTask]
    /// Tasks that count against their assignee's concurrency (offered, accepted, in progress),
    /// counted per assignee within a namespace.
    nonisolated(nonsending) func activeTaskCounts(namespace: String) async throws -> [String: Int]
    /// Non-terminal tasks with a deadline at or before `nowMs`.
    nonisolated(nonsending) func overdueTasks(nowMs: Int, limit: Int) async throws -> [MeshTask]
    /// Tasks waiting for an agent (routed by requirements, none available yet).
    nonisolated(nonsending) func queuedTasks(limit: Int) async throws -> [MeshTask]

    nonisolated(nonsending) func delivery(id: String) async throws -> MeshDelivery?
    /// Deliveries for `recipient` that are not leased at `nowMs`, oldest first.
    nonisolated(nonsending) func availableDeliveries(recipient: String, nowMs: Int, limit: Int) async throws -> [MeshDelivery]
    /// Task offers whose lease ran out unanswered.
    nonisolated(nonsending) func expiredOffers(nowMs: Int, limit: Int) async throws -> [MeshDelivery]
    /// Other deliveries (results, notices) whose lease ran out unacknowledged.
    nonisolated(nonsending) func expiredLeases(nowMs: Int, limit: Int) async throws -> [MeshDelivery]
    nonisolated(nonsending) func deliveries(taskId: String) async throws -> [MeshDelivery]

    nonisolated(nonsending) func file(namespace: String, key: String) async throws -> SharedFile?
    /// Files of a namespace, ordered by key.
    nonisolated(nonsending) func files(namespace: String) async throws -> [SharedFile]
    nonisolated(nonsending) func stateDocument(namespace: String, key: String) async throws -> StateDocument?
    nonisolated(nonsending) func stateDocuments(namespace: String) async throws -> [StateDocument]
    /// The newest broadcasts of a namespace, newest first.
    nonisolated(nonsending) func broadcasts(namespace: String, limit: Int) async throws -> [MeshBroadcast]

    nonisolated(nonsending) func events(namespace: String?, afterSeq: Int, limit: Int) async throws -> [MeshEvent]
    nonisolated(nonsending) func latestEventSeq() async throws -> Int

    /// How many tasks each state holds, over every namespace (states without tasks are absent).
    nonisolated(nonsending) func taskCountsByState() async throws -> [TaskState: Int]

    /// Applies every part of `change` in one transaction and returns its events with their
    /// assigned sequence numbers. Fails (changing nothing) with `MeshStoreError.versionConflict`
    /// when a task's stored version is not the expected one, `.fileConflict` / `.stateConflict`
    /// likewise for files and state documents.
    nonisolated(nonsending) func commit(_ change: MeshChange) async throws -> [MeshEvent]

    /// Deletes terminal tasks updated before `tasksBeforeMs` (and their deliveries) and events
    /// created before `eventsBeforeMs`; returns how many rows went.
    nonisolated(nonsending) func prune(tasksBeforeMs: Int, eventsBeforeMs: Int) async throws -> Int
}

/// A unit of work: everything one mesh operation changes.
public struct MeshChange: Sendable {
    public var upsertAgents: [MeshAgent] = []
    public var deleteAgents: [String] = []
    /// Agents seen alive at this time: applied to the agent as stored when the change is
    /// written (never moving back), rather than writing back a copy read earlier, which would
    /// undo a re-registration that landed in between. An agent that is gone is skipped.
    public var heartbeats: [(agentId: String, atMs: Int)] = []
    /// Tasks to write; `expectedVersion` nil means "must not exist yet".
    public var upsertTasks: [(task: MeshTask, expectedVersion: Int?)] = []
    public var upsertDeliveries: [MeshDelivery] = []
    public var deleteDeliveries: [String] = []
    /// Deliveries that must still exist with exactly this lease when the change commits, else the
    /// commit fails with `leaseConflict` and writes nothing. Whoever re-leases or releases a
    /// delivery it read earlier states what it read, so a poll that leased the delivery in the
    /// meantime is never overwritten with a stale copy (which could lose its lease and with it
    /// the expiry that redelivers or dead-letters it).
    public var expectedLeases: [(deliveryId: String, leaseUntilMs: Int?)] = []
    public var events: [NewMeshEvent] = []
    public var insertBroadcasts: [MeshBroadcast] = []
    /// Broadcast history kept per namespace after the insert.
    public var broadcastHistoryLimit = 1000
    /// Files to write; `expectedVersion` nil means "must not exist yet".
    public var upsertFiles: [(file: SharedFile, expectedVersion: Int?)] = []
    public var deleteFiles: [(namespace: String, key: String, expectedVersion: Int)] = []
    /// State documents to write; `expectedVersion` nil means "must not exist yet".
    public var upsertStates: [(document: StateDocument, expectedVersion: Int?)] = []
    /// Not stored: deliveries (already part of `upsertDeliveries`, leased) to hand to connected
    /// recipients once the commit succeeded — never before, so nothing is delivered that could
    /// still be lost.
    public var pushAfterCommit: [MeshDelivery] = []

    public init() {}

    public var isEmpty: Bool {
        upsertAgents.isEmpty && deleteAgents.isEmpty && heartbeats.isEmpty && upsertTasks.isEmpty && upsertDeliveries.isEmpty
            && deleteDeliveries.isEmpty && events.isEmpty && insertBroadcasts.isEmpty && upsertFiles.isEmpty
            && deleteFiles.isEmpty && upsertStates.isEmpty
    }
}

public enum MeshStoreError: Error, Sendable, Equatable {
    case versionConflict(taskId: String)
    case fileConflict(namespace: String, key: String)
    case stateConflict(namespace: String, key: String)
    case leaseConflict(deliveryId: String)
}

/// Filters for listing tasks.
public struct TaskQuery: Sendable, Equatable {
    public var namespace: String
    /// Tasks this agent delegated or is assigned.
    public var involving: String?
    public var states: [TaskState]?
    public var limit: Int

    public init(namespace: String, involving: String? = nil, states: [TaskState]? = nil, limit: Int = 100) {
        self.namespace = namespace
        self.involving = involving
        self.states = states
        self.limit = limit
    }
}

extension MeshStore {
    public var taskExecutor: any TaskExecutor { globalConcurrentExecutor }
}
