import ClawgateProtocol
import Foundation
import GRDB
import NIOCore
import Synchronization
import Testing

@testable import ClawgateMesh
@testable import ClawgateMeshSQLite

/// Group commit and the decoded-record cache of `SQLiteMeshStore`: several changes share one
/// transaction, each still fails or succeeds alone, nothing is acknowledged before its batch
/// committed, and a batch that fails to commit leaves neither rows nor cached copies behind.
@Suite("Group commit")
struct GroupCommitTests {
    let helpers = SQLiteMeshStoreTests()

    /// Counts committed transactions of a database.
    final class CommitCounter: TransactionObserver, Sendable {
        let commits = Atomic<Int>(0)
        func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { true }
        func databaseDidChange(with event: DatabaseEvent) {}
        func databaseDidCommit(_ db: Database) { commits.add(1, ordering: .relaxed) }
        func databaseDidRollback(_ db: Database) {}
    }

    /// Runs store calls on the store's own thread, like the mesh actor does (where the cache and
    /// the open batch are visible).
    actor OnStoreThread {
        let store: SQLiteMeshStore
        init(_ store: SQLiteMeshStore) { self.store = store }
        nonisolated var unownedExecutor: UnownedSerialExecutor { store.executor.asUnownedSerialExecutor() }
        func agent(_ id: String) async throws -> MeshAgent? { try await store.agent(id: id) }
    }

    /// Keeps the store's thread busy until `release()`, so that the work submitted meanwhile
    /// queues up behind it and lands in one batch.
    final class ThreadHold: Sendable {
        private let released = DispatchSemaphore(value: 0)
        init(_ store: SQLiteMeshStore) {
            store.commits.loop.execute { [released] in released.wait() }
        }
        func release() { released.signal() }
    }

    @Test("concurrent changes share transactions, and every one of them is durable")
    func batchesAreDurable() async throws {
        try await helpers.withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("mesh.sqlite").path
            let store = try SQLiteMeshStore(path: path)
            let counter = CommitCounter()
            store.writer.add(transactionObserver: counter, extent: .databaseLifetime)
            let count = 20
            let hold = ThreadHold(store)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<count {
                    group.addTask {
                        var change = MeshChange()
                        change.upsertAgents = [helpers.agent("a\(index)")]
                        _ = try await store.commit(change)
                    }
                }
                // Time for the commits to queue behind the hold; if some are late they only
                // make more batches, and the check below needs just two in one.
                try await Task.sleep(for: .milliseconds(200))
                hold.release()
                try await group.waitForAll()
            }
            let transactions = counter.commits.load(ordering: .relaxed)
            #expect(transactions < count)
            #expect(transactions >= 1)
            let reopened = try SQLiteMeshStore(path: path)
            let stored = try await reopened.agents(namespace: "ns").count
            #expect(stored == count)
        }
    }

    @Test("a change that conflicts fails alone; the rest of its batch commits")
    func conflictFailsAlone() async throws {
        try await helpers.withStore(.file) { store in
            var first = MeshChange()
            first.upsertTasks = [(helpers.task("t1", version: 1), nil)]
            _ = try await store.commit(first)

            let hold = ThreadHold(store)
            let stale = Task {
                var change = MeshChange()
                change.upsertTasks = [(helpers.task("t1", state: .offered, version: 2), 7)]
                return try await store.commit(change)
            }
            let good = Task {
                var change = MeshChange()
                change.upsertAgents = [helpers.agent("a1")]
                change.upsertTasks = [(helpers.task("t2", version: 1), nil)]
                return try await store.commit(change)
            }
            try await Task.sleep(for: .milliseconds(100))
            hold.release()
            await #expect(throws: MeshStoreError.versionConflict(taskId: "t1")) { try await stale.value }
            _ = try await good.value
            let t1 = try await store.task(id: "t1")
            let t2 = try await store.task(id: "t2")
            #expect(t1?.state == .queued)
            #expect(t1?.version == 1)
            #expect(t2 != nil)
            let onThread = OnStoreThread(store)
            let cached = try await onThread.agent("a1")
            #expect(cached?.agentId == "a1")
        }
    }

    @Test("a batch that fails to commit fails every change in it and forgets their cached copies")
    func failedBatch() async throws {
        try await helpers.withStore(.file) { store in
            // A deferred foreign key is checked only at COMMIT: a way to make a whole batch fail.
            try await store.writer.write { db in
                try db.execute(sql: """
                    CREATE TABLE poison_parent (id INTEGER PRIMARY KEY);
                    CREATE TABLE poison_child (parent INTEGER REFERENCES poison_parent(id) DEFERRABLE INITIALLY DEFERRED);
                    """)
            }
            var original = helpers.agent("a1", machine: "before")
            var first = MeshChange()
            first.upsertAgents = [original]
            _ = try await store.commit(first)
            let onThread = OnStoreThread(store)
            // Read once on the store's thread so the cache holds the agent.
            let warmed = try await onThread.agent("a1")
            #expect(warmed == original)

            let hold = ThreadHold(store)
            let commits = store.commits
            let poison = commits.loop.submit {
                try commits.stage { db in try db.execute(sql: "INSERT INTO poison_child (parent) VALUES (42)") }.1
            }
            let update = Task {
                var change = MeshChange()
                change.upsertAgents = [helpers.agent("a1", machine: "after")]
                return try await store.commit(change)
            }
            try await Task.sleep(for: .milliseconds(100))
            hold.release()
            await #expect(throws: DatabaseError.self) { try await update.value }
            await #expect(throws: DatabaseError.self) { try await poison.get().get() }

            original.machine = "before"
            let fromDatabase = try await store.agent(id: "a1")
            let fromThread = try await onThread.agent("a1")
            #expect(fromDatabase == original)
            #expect(fromThread == original)

            // The store goes on working after the failed batch.
            var next = MeshChange()
            next.upsertAgents = [helpers.agent("a2")]
            _ = try await store.commit(next)
            let a2 = try await onThread.agent("a2")
            #expect(a2?.agentId == "a2")
        }
    }

    @Test("the partial indexes' conditions name exactly the states they stand for")
    func partialIndexConditions() {
        let active = Set(TaskState.allCases.filter(\.occupiesAssignee).map(\.rawValue))
        let open = Set(TaskState.allCases.filter { !$0.isTerminal }.map(\.rawValue))
        let terminal = Set(TaskState.allCases.filter(\.isTerminal).map(\.rawValue))
        #expect(TaskStateSQL.states(in: TaskStateSQL.active) == active)
        #expect(TaskStateSQL.states(in: TaskStateSQL.open) == open)
        #expect(TaskStateSQL.states(in: TaskStateSQL.terminal) == terminal)
        #expect(TaskStateSQL.states(in: TaskStateSQL.queued) == [TaskState.queued.rawValue])
    }

    /// The store's queries say `INDEXED BY`, so SQLite refuses ("no query solution") a query
    /// whose condition does not imply the index's; these are the same queries.
    @Test("the sweep and load queries can use the partial indexes")
    func queriesUsePartialIndexes() async throws {
        try await helpers.withStore(.file) { store in
            let plans: [(sql: String, index: String)] = [
                ("SELECT assignee FROM tasks INDEXED BY tasks_active WHERE namespace = 'ns' AND \(TaskStateSQL.active)", "tasks_active"),
                ("SELECT taskId FROM tasks INDEXED BY tasks_queued_created WHERE \(TaskStateSQL.queued) ORDER BY createdAtMs, taskId LIMIT 5", "tasks_queued_created"),
                ("SELECT taskId FROM tasks INDEXED BY tasks_deadline WHERE \(TaskStateSQL.open) AND deadlineMs IS NOT NULL AND deadlineMs <= 5 ORDER BY deadlineMs, taskId LIMIT 5", "tasks_deadline"),
                ("SELECT taskId FROM tasks INDEXED BY tasks_terminal WHERE \(TaskStateSQL.terminal) AND updatedAtMs < 5", "tasks_terminal"),
                ("SELECT state, COUNT(*) FROM tasks INDEXED BY tasks_active WHERE \(TaskStateSQL.active) GROUP BY state", "COVERING INDEX tasks_active"),
                ("SELECT state, COUNT(*) FROM tasks INDEXED BY tasks_terminal WHERE \(TaskStateSQL.terminal) GROUP BY state", "COVERING INDEX tasks_terminal"),
                ("SELECT seq FROM events WHERE createdAtMs >= 5 ORDER BY seq LIMIT 1", "SCAN events"),
            ]
            for (sql, index) in plans {
                let plan = try await store.writer.read { db in
                    try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN \(sql)").map { row -> String in row["detail"] }.joined(separator: "; ")
                }
                #expect(plan.contains(index), "\(sql) → \(plan)")
            }
        }
    }
}
