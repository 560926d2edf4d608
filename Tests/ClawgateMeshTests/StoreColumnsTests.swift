import ClawgateProtocol
import Foundation
import GRDB
import Testing

@testable import ClawgateMesh
@testable import ClawgateMeshSQLite

/// The store writes only the columns that changed (narrow updates, checked against the cached
/// copy of the row) and counts tasks from its partial indexes. Whatever path a write takes, the
/// filter columns must stay equal to what the row's JSON says, and the counts must be exact.
@Suite("Store columns and counts")
struct StoreColumnsTests {
    let helpers = SQLiteMeshStoreTests()

    /// Every task, delivery and agent row: its columns against its JSON.
    func expectColumnsMatchJSON(_ store: SQLiteMeshStore, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        try await store.writer.read { db in
            for row in try Row.fetchAll(db, sql: "SELECT * FROM tasks") {
                let task = try JSONCoding.decode(MeshTask.self, from: Data((row["json"] as String).utf8))
                #expect(row["taskId"] == task.taskId, sourceLocation: sourceLocation)
                #expect(row["namespace"] == task.namespace, sourceLocation: sourceLocation)
                #expect(row["fromAgent"] == task.from, sourceLocation: sourceLocation)
                #expect((row["assignee"] as String?) == task.assignee, "task \(task.taskId)", sourceLocation: sourceLocation)
                #expect(row["state"] == task.state.rawValue, "task \(task.taskId)", sourceLocation: sourceLocation)
                #expect((row["deadlineMs"] as Int?) == task.deadlineMs, sourceLocation: sourceLocation)
                #expect((row["idempotencyKey"] as String?) == task.idempotencyKey, sourceLocation: sourceLocation)
                #expect(row["createdAtMs"] == task.createdAtMs, sourceLocation: sourceLocation)
                #expect(row["updatedAtMs"] == task.updatedAtMs, sourceLocation: sourceLocation)
                #expect(row["version"] == task.version, sourceLocation: sourceLocation)
            }
            for row in try Row.fetchAll(db, sql: "SELECT * FROM deliveries") {
                let delivery = try JSONCoding.decode(MeshDelivery.self, from: Data((row["json"] as String).utf8))
                #expect(row["deliveryId"] == delivery.deliveryId, sourceLocation: sourceLocation)
                #expect(row["recipient"] == delivery.recipient, sourceLocation: sourceLocation)
                #expect(row["kind"] == delivery.kind.rawValue, sourceLocation: sourceLocation)
                #expect((row["taskId"] as String?) == delivery.taskId, sourceLocation: sourceLocation)
                #expect((row["leaseUntilMs"] as Int?) == delivery.leaseUntilMs, "delivery \(delivery.deliveryId)", sourceLocation: sourceLocation)
                #expect(row["createdAtMs"] == delivery.createdAtMs, sourceLocation: sourceLocation)
            }
            for row in try Row.fetchAll(db, sql: "SELECT * FROM agents") {
                let agent = try JSONCoding.decode(MeshAgent.self, from: Data((row["json"] as String).utf8))
                #expect(row["agentId"] == agent.agentId, sourceLocation: sourceLocation)
                #expect(row["namespace"] == agent.namespace, "agent \(agent.agentId)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test("narrow updates keep every column in step with the JSON, also for a record written twice in one change")
    func narrowUpdates() async throws {
        try await helpers.withStore(.file) { store in
            var create = MeshChange()
            create.upsertAgents = [helpers.agent("a1"), helpers.agent("a2")]
            create.upsertTasks = [(helpers.task("t1", deadline: 5_000, key: "k1"), nil), (helpers.task("t2"), nil)]
            create.upsertDeliveries = [helpers.delivery("d1", to: "a2", kind: .taskOffer, task: "t1", created: 100)]
            _ = try await store.commit(create)

            // State and assignee change; the delivery gets a lease; an agent's JSON changes.
            var offer = MeshChange()
            var t1 = helpers.task("t1", state: .offered, assignee: "a2", updated: 200, deadline: 5_000, key: "k1", version: 2)
            offer.upsertTasks = [(t1, 1)]
            offer.upsertDeliveries = [helpers.delivery("d1", to: "a2", kind: .taskOffer, task: "t1", created: 100, lease: 900)]
            var a1 = helpers.agent("a1")
            a1.lastHeartbeatMs = 9_000
            offer.upsertAgents = [a1]
            _ = try await store.commit(offer)
            try await expectColumnsMatchJSON(store)

            // One change writes t1 twice: away from the stored assignee and back to it. The second
            // write must compare with the first, not with the copy stored before the change.
            var twice = MeshChange()
            var away = t1
            away.assignee = "a3"
            away.state = .accepted
            away.version = 3
            t1.assignee = "a2"
            t1.state = .offered
            t1.version = 4
            t1.updatedAtMs = 300
            twice.upsertTasks = [(away, 2), (t1, 3)]
            twice.upsertDeliveries = [
                helpers.delivery("d1", to: "a2", kind: .taskOffer, task: "t1", created: 100, lease: nil),
                helpers.delivery("d1", to: "a2", kind: .taskOffer, task: "t1", created: 100, lease: 900),
            ]
            _ = try await store.commit(twice)
            try await expectColumnsMatchJSON(store)
            let assignee = try await store.writer.read { try String.fetchOne($0, sql: "SELECT assignee FROM tasks WHERE taskId = 't1'") }
            #expect(assignee == "a2")
            let lease = try await store.writer.read { try Int.fetchOne($0, sql: "SELECT leaseUntilMs FROM deliveries WHERE deliveryId = 'd1'") }
            #expect(lease == 900)

            // A change the narrow path does not cover (an agent moving namespace, a task's
            // immutable field) takes the full upsert and still lands.
            var move = MeshChange()
            move.upsertAgents = [helpers.agent("a2", ns: "other")]
            var t2 = helpers.task("t2", state: .offered, assignee: "a1", deadline: 7_000, version: 2)
            t2.updatedAtMs = 400
            move.upsertTasks = [(t2, 1)]
            _ = try await store.commit(move)
            try await expectColumnsMatchJSON(store)
            #expect(try await store.agents(namespace: "other").map(\.agentId) == ["a2"])
            #expect(try await store.overdueTasks(nowMs: 8_000, limit: 10).map(\.taskId).sorted() == ["t1", "t2"])
        }
    }

    @Test("settled tasks leave the record cache; reading one again decodes its row, writing it again lands")
    func settledTasksLeaveTheCache() async throws {
        var cache = RecordCache()
        cache.insert(helpers.task("live", state: .accepted, assignee: "a2"))
        cache.insert(helpers.task("done", state: .completed, assignee: "a2"))
        #expect(cache.tasks.keys.sorted() == ["live"])
        cache.insert(helpers.task("live", state: .failed, assignee: "a2", version: 2))
        #expect(cache.tasks.isEmpty)

        try await helpers.withStore(.file) { store in
            var create = MeshChange()
            create.upsertTasks = [(helpers.task("t1", state: .offered, assignee: "a2"), nil)]
            _ = try await store.commit(create)
            #expect(store.cache.withLock { $0.tasks["t1"] } != nil)

            // Completed and then written again in one change: the second write finds no cached
            // copy and takes the full upsert.
            var finish = MeshChange()
            let done = helpers.task("t1", state: .completed, assignee: "a2", updated: 300, version: 2)
            var again = done
            again.version = 3
            again.updatedAtMs = 400
            finish.upsertTasks = [(done, 1), (again, 2)]
            _ = try await store.commit(finish)
            #expect(store.cache.withLock { $0.tasks["t1"] } == nil)
            try await expectColumnsMatchJSON(store)

            let read = try #require(try await store.task(id: "t1"))
            #expect(read.state == .completed && read.version == 3 && read.updatedAtMs == 400)
            #expect(store.cache.withLock { $0.tasks["t1"] } == nil)
        }
    }

    @Test("task counts per state come out exact from the partial indexes", arguments: SQLiteMeshStoreTests.Backend.allCases)
    func countsByState(_ backend: SQLiteMeshStoreTests.Backend) async throws {
        try await helpers.withStore(backend) { store in
            var expected: [TaskState: Int] = [:]
            var change = MeshChange()
            for (offset, state) in TaskState.allCases.enumerated() {
                for copy in 0...offset {
                    let assignee: String? = state == .queued ? nil : "a\(copy % 2)"
                    change.upsertTasks.append((helpers.task("\(state.rawValue)-\(copy)", state: state, assignee: assignee), nil))
                    expected[state, default: 0] += 1
                }
            }
            _ = try await store.commit(change)
            #expect(try await store.taskCountsByState() == expected)

            // Counts follow state changes, and a state with no task left is absent.
            var finish = MeshChange()
            finish.upsertTasks = [(helpers.task("queued-0", state: .completed, assignee: "a1", version: 2), 1)]
            _ = try await store.commit(finish)
            expected[.queued] = nil
            expected[.completed, default: 0] += 1
            #expect(try await store.taskCountsByState() == expected)
        }
    }
}
