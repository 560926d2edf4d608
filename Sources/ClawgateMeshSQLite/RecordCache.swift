import ClawgateMesh
import Synchronization

/// Decoded copies of the agent, task and delivery rows the mesh actor reads.
///
/// Every record is stored as JSON, and decoding it again on each read was the largest single
/// cost of a mesh call (a task offer's delivery carries the whole task). The store's thread is
/// the only writer, so it can keep decoded copies exactly in step with what it writes: a staged
/// change updates them in the same step that writes its rows, and a batch that fails to commit
/// (or any failed write) empties the cache. Only the store's thread uses it; readers elsewhere
/// read committed rows from the database.
///
/// It holds live records only: a task that reached a terminal state is dropped, not kept. The
/// hot path never reads a settled task again (results are acknowledged by delivery), and
/// keeping them filled the cache with every finished task until the limit emptied it: up to
/// 10,000 decoded tasks and their dictionary's storage, most of what the gateway's memory grew
/// by under steady work (BENCHMARKS.md, "Soak").
struct RecordCache {
    /// Per kind; beyond it the kind is emptied and refills with what is read next (cheap, and
    /// no bookkeeping on the hot path). With settled tasks left out it is reached only by that
    /// many records in flight at once.
    static let limit = 10_000

    var agents: [String: MeshAgent] = [:]
    var tasks: [String: MeshTask] = [:]
    var deliveries: [String: MeshDelivery] = [:]

    mutating func insert<Record: CachedRecord>(_ record: Record) {
        if record.isSettled {
            self[keyPath: Record.slot][record.recordId] = nil
            return
        }
        if self[keyPath: Record.slot].count >= Self.limit { self[keyPath: Record.slot].removeAll(keepingCapacity: true) }
        self[keyPath: Record.slot][record.recordId] = record
    }

    mutating func remember(_ change: MeshChange) {
        for agent in change.upsertAgents { insert(agent) }
        for agentId in change.deleteAgents { agents[agentId] = nil }
        for (task, _) in change.upsertTasks { insert(task) }
        for delivery in change.upsertDeliveries { insert(delivery) }
        for deliveryId in change.deleteDeliveries { deliveries[deliveryId] = nil }
    }

    mutating func removeAll() {
        agents.removeAll()
        tasks.removeAll()
        deliveries.removeAll()
    }
}

/// A record kept in `RecordCache`: where, and under which id (its primary key).
protocol CachedRecord: Decodable {
    static var slot: WritableKeyPath<RecordCache, [String: Self]> { get }
    var recordId: String { get }
    /// Done changing and unlikely to be read on the hot path again: not worth its memory.
    var isSettled: Bool { get }
}

extension CachedRecord {
    var isSettled: Bool { false }
}

extension MeshAgent: CachedRecord {
    static var slot: WritableKeyPath<RecordCache, [String: MeshAgent]> { \.agents }
    var recordId: String { agentId }
}

extension MeshTask: CachedRecord {
    static var slot: WritableKeyPath<RecordCache, [String: MeshTask]> { \.tasks }
    var recordId: String { taskId }
    var isSettled: Bool { state.isTerminal }
}

extension MeshDelivery: CachedRecord {
    static var slot: WritableKeyPath<RecordCache, [String: MeshDelivery]> { \.deliveries }
    var recordId: String { deliveryId }
}

/// The cache, shared by the store and its group committer (which empties it on a failure).
final class SharedRecordCache: Sendable {
    private let mutex = Mutex(RecordCache())

    func withLock<R>(_ body: (inout RecordCache) -> R) -> R {
        mutex.withLock { body(&$0) }
    }
}
