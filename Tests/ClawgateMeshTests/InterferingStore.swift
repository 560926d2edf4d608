import ClawgateMesh
import ClawgateMeshSQLite
import Foundation
import Synchronization

/// A store that lets a test write in between a mesh operation's reads and its commit, as the
/// sweep, another socket's call or another replica can: `beforeCommit` runs before every commit.
/// Everything else goes straight to the SQLite store underneath.
final class InterferingStore: MeshStore {
    let inner: SQLiteMeshStore
    let beforeCommit = Mutex<(@Sendable (MeshChange) async throws -> Void)?>(nil)
    /// The thread each forwarded call started on, by call.
    let threads = Mutex<[(String, pthread_t)]>([])

    init(inner: SQLiteMeshStore) {
        self.inner = inner
    }

    var executor: any SerialExecutor { inner.executor }

    private func note(_ call: String) {
        let thread = pthread_self()
        threads.withLock { $0.append((call, thread)) }
    }

    nonisolated(nonsending) func commit(_ change: MeshChange) async throws -> [MeshEvent] {
        note("commit")
        if let hook = beforeCommit.withLock({ $0 }) { try await hook(change) }
        return try await inner.commit(change)
    }

    nonisolated(nonsending) func agent(id: String) async throws -> MeshAgent? {
        note("agent")
        return try await inner.agent(id: id)
    }
    nonisolated(nonsending) func agents(namespace: String?) async throws -> [MeshAgent] { try await inner.agents(namespace: namespace) }
    nonisolated(nonsending) func task(id: String) async throws -> MeshTask? { try await inner.task(id: id) }
    nonisolated(nonsending) func task(namespace: String, from: String, idempotencyKey: String) async throws -> MeshTask? {
        try await inner.task(namespace: namespace, from: from, idempotencyKey: idempotencyKey)
    }
    nonisolated(nonsending) func tasks(_ query: TaskQuery) async throws -> [MeshTask] { try await inner.tasks(query) }
    nonisolated(nonsending) func activeTaskCounts(namespace: String) async throws -> [String: Int] {
        try await inner.activeTaskCounts(namespace: namespace)
    }
    nonisolated(nonsending) func overdueTasks(nowMs: Int, limit: Int) async throws -> [MeshTask] {
        try await inner.overdueTasks(nowMs: nowMs, limit: limit)
    }
    nonisolated(nonsending) func queuedTasks(limit: Int) async throws -> [MeshTask] { try await inner.queuedTasks(limit: limit) }
    nonisolated(nonsending) func delivery(id: String) async throws -> MeshDelivery? { try await inner.delivery(id: id) }
    nonisolated(nonsending) func availableDeliveries(recipient: String, nowMs: Int, limit: Int) async throws -> [MeshDelivery] {
        note("availableDeliveries")
        return try await inner.availableDeliveries(recipient: recipient, nowMs: nowMs, limit: limit)
    }
    nonisolated(nonsending) func expiredOffers(nowMs: Int, limit: Int) async throws -> [MeshDelivery] {
        try await inner.expiredOffers(nowMs: nowMs, limit: limit)
    }
    nonisolated(nonsending) func expiredLeases(nowMs: Int, limit: Int) async throws -> [MeshDelivery] {
        try await inner.expiredLeases(nowMs: nowMs, limit: limit)
    }
    nonisolated(nonsending) func deliveries(taskId: String) async throws -> [MeshDelivery] { try await inner.deliveries(taskId: taskId) }
    nonisolated(nonsending) func file(namespace: String, key: String) async throws -> SharedFile? {
        try await inner.file(namespace: namespace, key: key)
    }
    nonisolated(nonsending) func files(namespace: String) async throws -> [SharedFile] { try await inner.files(namespace: namespace) }
    nonisolated(nonsending) func stateDocument(namespace: String, key: String) async throws -> StateDocument? {
        try await inner.stateDocument(namespace: namespace, key: key)
    }
    nonisolated(nonsending) func stateDocuments(namespace: String) async throws -> [StateDocument] {
        try await inner.stateDocuments(namespace: namespace)
    }
    nonisolated(nonsending) func broadcasts(namespace: String, limit: Int) async throws -> [MeshBroadcast] {
        try await inner.broadcasts(namespace: namespace, limit: limit)
    }
    nonisolated(nonsending) func events(namespace: String?, afterSeq: Int, limit: Int) async throws -> [MeshEvent] {
        try await inner.events(namespace: namespace, afterSeq: afterSeq, limit: limit)
    }
    nonisolated(nonsending) func latestEventSeq() async throws -> Int { try await inner.latestEventSeq() }
    nonisolated(nonsending) func taskCountsByState() async throws -> [TaskState: Int] { try await inner.taskCountsByState() }
    nonisolated(nonsending) func prune(tasksBeforeMs: Int, eventsBeforeMs: Int) async throws -> Int {
        try await inner.prune(tasksBeforeMs: tasksBeforeMs, eventsBeforeMs: eventsBeforeMs)
    }
}
