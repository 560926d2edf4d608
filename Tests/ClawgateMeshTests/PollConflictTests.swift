import ClawgateMesh
import ClawgateMeshSQLite
import ClawgateProtocol
import Foundation
import Synchronization
import Testing

/// A store that lets a test write in between a mesh operation's reads and its commit, as the
/// sweep, another socket's call or another replica can: before each of the next `steals`
/// commits that lease deliveries it read (a poll's), it re-leases the first of them itself, and
/// `beforeCommit` runs before every commit. Everything else goes straight to the SQLite store
/// underneath.
final class InterferingStore: MeshStore {
    let inner: SQLiteMeshStore
    /// Deliveries re-leased so far, and the lease each got.
    let stolen = Mutex<[String: Int]>([:])
    let beforeCommit = Mutex<(@Sendable (MeshChange) async throws -> Void)?>(nil)
    /// The thread each forwarded call started on, by call.
    let threads = Mutex<[(String, pthread_t)]>([])
    private let remaining: Mutex<Int>
    private let leaseUntilMs: Int

    init(inner: SQLiteMeshStore, steals: Int, leaseUntilMs: Int) {
        self.inner = inner
        self.remaining = Mutex(steals)
        self.leaseUntilMs = leaseUntilMs
    }

    var executor: any SerialExecutor { inner.executor }

    private func note(_ call: String) {
        let thread = pthread_self()
        threads.withLock { $0.append((call, thread)) }
    }

    nonisolated(nonsending) func commit(_ change: MeshChange) async throws -> [MeshEvent] {
        note("commit")
        if let hook = beforeCommit.withLock({ $0 }) { try await hook(change) }
        let target = change.expectedLeases.first
        if let target, remaining.withLock({ remaining in
            guard remaining > 0 else { return false }
            remaining -= 1
            return true
        }), var delivery = try await inner.delivery(id: target.deliveryId) {
            var steal = MeshChange()
            steal.expectedLeases = [(delivery.deliveryId, delivery.leaseUntilMs)]
            delivery.leaseUntilMs = leaseUntilMs
            steal.upsertDeliveries = [delivery]
            _ = try await inner.commit(steal)
            stolen.withLock { $0[delivery.deliveryId] = leaseUntilMs }
        }
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

@Suite("Mesh poll under concurrent leases")
struct PollConflictTests {
    /// The durability test (kill -9, restart, a backlog of ~90 expired offers) failed now and then
    /// because the worker's poll answered "deliveries changed concurrently; poll again": the sweep
    /// re-leased the backlog one offer per commit, and each of the poll's five attempts lost one
    /// delivery to it. A poll now leaves out what someone else leased meanwhile and leases the rest.
    @Test("a poll leaves out deliveries leased by someone else meanwhile, and leases the rest")
    func pollSkipsDeliveriesLeasedMeanwhile() async throws {
        let clock = TestClock()
        let stolenLease = clock.nowMs + 60_000
        // More steals than the old poll's five attempts.
        let store = InterferingStore(inner: try SQLiteMeshStore.inMemory(), steals: 6, leaseUntilMs: stolenLease)
        let mesh = MeshService(store: store, now: { clock.nowMs })
        _ = try await mesh.register(AgentRegistration(agentId: "boss"))
        _ = try await mesh.register(AgentRegistration(agentId: "worker"))
        var taskIds: [String] = []
        for index in 0..<8 {
            taskIds.append(try await mesh.delegate(DelegateRequest(to: "worker", type: "job-\(index)"), from: "boss").taskId)
        }

        let polled = try await mesh.poll(agentId: "worker")

        let stolen = store.stolen.withLock { $0 }
        #expect(stolen.count == 6)
        #expect(polled.count == 2)
        #expect(Set(polled.map(\.deliveryId)).isDisjoint(with: stolen.keys))
        #expect(Set(polled.compactMap(\.taskId)).isSubset(of: taskIds))
        for delivery in polled {
            #expect(delivery.leaseUntilMs == clock.nowMs + MeshSettings().leaseMs)
            #expect(try await store.delivery(id: delivery.deliveryId)?.leaseUntilMs == clock.nowMs + MeshSettings().leaseMs)
        }
        // The other leases stand: nothing of this poll overwrote them.
        for (deliveryId, lease) in stolen {
            #expect(try await store.delivery(id: deliveryId)?.leaseUntilMs == lease)
        }
        // Nothing is left to hand out until those leases run out; then they come back.
        #expect(try await mesh.poll(agentId: "worker").isEmpty)
        clock.advance(ms: 60_001)
        #expect(try await mesh.poll(agentId: "worker").count == 8)
    }
}

@Suite("Mesh heartbeats under concurrent writes")
struct HeartbeatConflictTests {
    /// Heartbeats (and polls, which count as one) wrote back the whole agent as read at the
    /// start of the call, so a re-registration that landed in between was undone.
    @Test("a heartbeat or poll does not undo a re-registration that landed before its write")
    func heartbeatKeepsAConcurrentReRegistration() async throws {
        let clock = TestClock()
        let store = InterferingStore(inner: try SQLiteMeshStore.inMemory(), steals: 0, leaseUntilMs: 0)
        let mesh = MeshService(store: store, now: { clock.nowMs })
        _ = try await mesh.register(AgentRegistration(agentId: "worker", capabilities: ["a"]))
        let inner = store.inner
        for (round, call) in ["heartbeat", "poll"].enumerated() {
            let capability = "after-\(call)"
            let once = Mutex(true)
            store.beforeCommit.withLock {
                $0 = { change in
                    guard !change.heartbeats.isEmpty, once.withLock({ first in defer { first = false }; return first }) else { return }
                    guard var agent = try await inner.agent(id: "worker") else { return }
                    agent.capabilities = [capability]
                    var update = MeshChange()
                    update.upsertAgents = [agent]
                    _ = try await inner.commit(update)
                }
            }
            clock.advance(ms: 1_000)
            if round == 0 {
                _ = try await mesh.heartbeat(agentId: "worker")
            } else {
                _ = try await mesh.poll(agentId: "worker")
            }
            let stored = try #require(try await store.agent(id: "worker"))
            #expect(stored.capabilities == [capability], "\(call) undid the concurrent re-registration")
            #expect(stored.lastHeartbeatMs == clock.nowMs, "\(call) did not record the heartbeat")
        }
        // A heartbeat never moves the time back.
        var late = MeshChange()
        late.heartbeats = [("worker", clock.nowMs - 5_000)]
        store.beforeCommit.withLock { $0 = nil }
        _ = try await store.commit(late)
        #expect(try await store.agent(id: "worker")?.lastHeartbeatMs == clock.nowMs)
    }
}

extension MeshService {
    /// The thread the mesh actor runs on (an isolated method of the actor).
    func actorThread() -> pthread_t { pthread_self() }
}

@Suite("Mesh store calls stay on the mesh actor")
struct StoreIsolationTests {
    @Test("the mesh actor's store reads and commits run on its own thread, without a hop")
    func storeCallsRunOnTheActorThread() async throws {
        let store = InterferingStore(inner: try SQLiteMeshStore.inMemory(), steals: 0, leaseUntilMs: 0)
        let mesh = MeshService(store: store)
        _ = try await mesh.register(AgentRegistration(agentId: "boss"))
        _ = try await mesh.register(AgentRegistration(agentId: "worker"))
        _ = try await mesh.delegate(DelegateRequest(to: "worker", type: "job"), from: "boss")
        _ = try await mesh.poll(agentId: "worker")
        let actorThread = await mesh.actorThread()
        let seen = store.threads.withLock { $0 }
        #expect(!seen.isEmpty)
        for (call, thread) in seen {
            #expect(pthread_equal(thread, actorThread) != 0, "\(call) ran off the mesh actor's thread")
        }
    }
}
