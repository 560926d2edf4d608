import ClawgateProtocol
import Foundation
import GRDB
import Testing

@testable import ClawgateMesh
@testable import ClawgateMeshSQLite

/// Exercises `SQLiteMeshStore` against real database files (and the in-memory variant where the
/// backend makes no difference), because the properties that matter — atomicity, durability,
/// sequence numbers — only show on a real file.
@Suite("SQLiteMeshStore")
struct SQLiteMeshStoreTests {
    // MARK: - Round trips

    @Test("every model type round-trips", arguments: Backend.allCases)
    func roundTrip(backend: Backend) async throws {
        try await withStore(backend) { store in
            let full = agent("a1", machine: "host-1")
            let bare = agent("a2", machine: nil)
            let rich = task(
                "t1", from: "a1", to: "a2", state: .inProgress, assignee: "a2", deadline: 9_000, key: "k1",
                version: 4)
            var routed = task("t2", from: "a2", to: nil, state: .queued)
            routed.requirements = TaskRequirements(capabilities: ["code"], skills: ["swift"], agentTypes: ["claude"])
            routed.priority = .urgent
            routed.rejectedBy = ["a3", "a4"]
            routed.error = "boom"
            routed.result = .array([.null, .bool(false), .double(2.5), .string("ü ✓ \"q\"")])
            let offer = delivery(
                "d1", to: "a2", kind: .taskOffer, task: "t1", created: 10, lease: 500,
                payload: .object(["task": .object(["id": .string("t1"), "n": .int(-7)])]))
            let result = delivery("d2", to: "a1", kind: .taskResult, task: nil, created: 11, lease: nil)

            var change = MeshChange()
            change.upsertAgents = [full, bare]
            change.upsertTasks = [(rich, nil), (routed, nil)]
            change.upsertDeliveries = [offer, result]
            change.events = [NewMeshEvent(
                namespace: "ns", type: MeshEventType.taskCreated,
                payload: .object(["taskId": .string("t1"), "nested": .array([.int(1), .object([:])])]),
                createdAtMs: 42)]
            let events = try await store.commit(change)

            #expect(try await store.agent(id: "a1") == full)
            #expect(try await store.agent(id: "a2") == bare)
            #expect(try await store.agent(id: "missing") == nil)
            #expect(try await store.agents(namespace: "ns") == [full, bare])
            #expect(try await store.agents(namespace: "other") == [])
            #expect(try await store.agents(namespace: nil).count == 2)
            #expect(try await store.task(id: "t1") == rich)
            #expect(try await store.task(id: "t2") == routed)
            #expect(try await store.task(id: "missing") == nil)
            #expect(try await store.delivery(id: "d1") == offer)
            #expect(try await store.delivery(id: "d2") == result)
            #expect(try await store.deliveries(taskId: "t1") == [offer])
            #expect(events.count == 1)
            #expect(try await store.events(namespace: nil, afterSeq: 0, limit: 10) == events)
            #expect(events.first?.payload == change.events.first?.payload)
        }
    }

    @Test("upserts replace and deletes remove")
    func upsertAndDelete() async throws {
        try await withStore(.file) { store in
            var change = MeshChange()
            change.upsertAgents = [agent("a1")]
            change.upsertDeliveries = [delivery("d1", to: "a1", created: 1)]
            _ = try await store.commit(change)

            var renamed = agent("a1")
            renamed.name = "renamed"
            renamed.namespace = "ns2"
            var leased = delivery("d1", to: "a1", created: 1, lease: 99)
            leased.attempts = 3
            change = MeshChange()
            change.upsertAgents = [renamed]
            change.upsertDeliveries = [leased]
            _ = try await store.commit(change)
            #expect(try await store.agent(id: "a1") == renamed)
            #expect(try await store.agents(namespace: "ns") == [])
            #expect(try await store.agents(namespace: "ns2") == [renamed])
            #expect(try await store.delivery(id: "d1") == leased)
            #expect(try await store.availableDeliveries(recipient: "a1", nowMs: 50, limit: 10) == [])

            change = MeshChange()
            change.deleteAgents = ["a1", "never-existed"]
            change.deleteDeliveries = ["d1"]
            _ = try await store.commit(change)
            #expect(try await store.agent(id: "a1") == nil)
            #expect(try await store.delivery(id: "d1") == nil)
        }
    }

    // MARK: - Versions and atomicity

    @Test("a version conflict in the second task leaves the first unchanged and writes nothing")
    func commitIsAtomic() async throws {
        try await withStore(.file) { store in
            var setup = MeshChange()
            setup.upsertTasks = [(task("t1", version: 1), nil), (task("t2", version: 1), nil)]
            _ = try await store.commit(setup)
            let before = try await store.latestEventSeq()

            var t1 = task("t1", state: .offered, assignee: "a2", version: 2)
            t1.attempts = 1
            var change = MeshChange()
            change.upsertAgents = [agent("a9")]
            change.upsertTasks = [(t1, 1), (task("t2", state: .canceled, version: 6), 5)]
            change.upsertDeliveries = [delivery("d9", to: "a2", created: 1)]
            change.events = [event("task_offered"), event("task_canceled")]
            await #expect(throws: MeshStoreError.versionConflict(taskId: "t2")) {
                try await store.commit(change)
            }

            #expect(try await store.task(id: "t1") == task("t1", version: 1))
            #expect(try await store.task(id: "t2") == task("t2", version: 1))
            #expect(try await store.agent(id: "a9") == nil)
            #expect(try await store.delivery(id: "d9") == nil)
            #expect(try await store.latestEventSeq() == before)
            #expect(try await store.events(namespace: nil, afterSeq: 0, limit: 100).isEmpty)

            // The same change with the right versions goes through.
            change.upsertTasks[1].expectedVersion = 1
            let events = try await store.commit(change)
            #expect(events.map(\.type) == ["task_offered", "task_canceled"])
            #expect(try await store.task(id: "t1") == t1)
            #expect(try await store.task(id: "t2")?.state == .canceled)
        }
    }

    @Test("expectedVersion nil conflicts when the task exists; a stale version conflicts", arguments: Backend.allCases)
    func versionChecks(backend: Backend) async throws {
        try await withStore(backend) { store in
            var change = MeshChange()
            change.upsertTasks = [(task("t1", version: 1), nil)]
            _ = try await store.commit(change)

            await #expect(throws: MeshStoreError.versionConflict(taskId: "t1")) {
                try await store.commit(change)
            }
            change.upsertTasks = [(task("t1", version: 3), 2)]
            await #expect(throws: MeshStoreError.versionConflict(taskId: "t1")) {
                try await store.commit(change)
            }
            // Expecting a version of a task that does not exist conflicts too.
            change.upsertTasks = [(task("t-missing", version: 2), 1)]
            await #expect(throws: MeshStoreError.versionConflict(taskId: "t-missing")) {
                try await store.commit(change)
            }
            // Two writes of one task in one change chain their versions.
            change.upsertTasks = [(task("t1", version: 2), 1), (task("t1", state: .offered, version: 3), 2)]
            _ = try await store.commit(change)
            #expect(try await store.task(id: "t1")?.version == 3)
            #expect(try await store.task(id: "t1")?.state == .offered)
        }
    }

    @Test("tasks are found by idempotency key, and a second task with the same key conflicts")
    func idempotencyKey() async throws {
        try await withStore(.file) { store in
            var change = MeshChange()
            change.upsertTasks = [
                (task("t1", ns: "ns", from: "a1", key: "k"), nil),
                (task("t2", ns: "ns", from: "a2", key: "k"), nil),
                (task("t3", ns: "other", from: "a1", key: "k"), nil),
                (task("t4", ns: "ns", from: "a1", key: nil), nil),
                (task("t5", ns: "ns", from: "a1", key: nil), nil),
            ]
            _ = try await store.commit(change)

            #expect(try await store.task(namespace: "ns", from: "a1", idempotencyKey: "k")?.taskId == "t1")
            #expect(try await store.task(namespace: "ns", from: "a2", idempotencyKey: "k")?.taskId == "t2")
            #expect(try await store.task(namespace: "other", from: "a1", idempotencyKey: "k")?.taskId == "t3")
            #expect(try await store.task(namespace: "ns", from: "a1", idempotencyKey: "nope") == nil)
            #expect(try await store.task(namespace: "ns", from: "a3", idempotencyKey: "k") == nil)

            var racing = MeshChange()
            racing.upsertTasks = [(task("t6", ns: "ns", from: "a1", key: "k"), nil)]
            racing.events = [event("task_created")]
            await #expect(throws: MeshStoreError.versionConflict(taskId: "t6")) {
                try await store.commit(racing)
            }
            #expect(try await store.task(id: "t6") == nil)
            #expect(try await store.latestEventSeq() == 0)
        }
    }

    // MARK: - Events

    @Test("event seqs strictly increase, survive reopening and are never reused after pruning")
    func eventSequence() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("mesh.sqlite").path
            var seen: [Int] = []
            do {
                let store = try SQLiteMeshStore(path: path)
                #expect(try await store.latestEventSeq() == 0)
                var change = MeshChange()
                change.events = [event("a", ns: "ns1", at: 1), event("b", ns: "ns2", at: 2), event("c", ns: "ns1", at: 3)]
                let first = try await store.commit(change)
                seen += first.map(\.seq)
                #expect(first.map(\.type) == ["a", "b", "c"])
                #expect(try await store.events(namespace: "ns1", afterSeq: 0, limit: 10).map(\.type) == ["a", "c"])
                #expect(try await store.events(namespace: "ns2", afterSeq: 0, limit: 10).map(\.type) == ["b"])
                #expect(try await store.events(namespace: nil, afterSeq: first[0].seq, limit: 10).map(\.type) == ["b", "c"])
                #expect(try await store.events(namespace: nil, afterSeq: 0, limit: 2).map(\.type) == ["a", "b"])
                #expect(try await store.events(namespace: nil, afterSeq: 0, limit: 0).isEmpty)

                // Prune every event, including the newest: the next one must still get a new seq.
                #expect(try await store.prune(tasksBeforeMs: 0, eventsBeforeMs: 100) == 3)
                #expect(try await store.events(namespace: nil, afterSeq: 0, limit: 10).isEmpty)
                #expect(try await store.latestEventSeq() == first.last?.seq)
                change.events = [event("d", at: 4)]
                seen += try await store.commit(change).map(\.seq)
            }
            let reopened = try SQLiteMeshStore(path: path)
            var change = MeshChange()
            change.events = [event("e", at: 5), event("f", at: 6)]
            seen += try await reopened.commit(change).map(\.seq)
            #expect(seen == seen.sorted())
            #expect(Set(seen).count == seen.count)
            #expect(try await reopened.latestEventSeq() == seen.last)
            #expect(try await reopened.events(namespace: nil, afterSeq: 0, limit: 10).map(\.seq) == Array(seen.suffix(3)))
        }
    }

    @Test("concurrent commits from 50 tasks all land with distinct seqs")
    func concurrentCommits() async throws {
        try await withStore(.file) { store in
            let seqs = try await withThrowingTaskGroup(of: [Int].self) { group in
                for index in 0..<50 {
                    group.addTask {
                        var change = MeshChange()
                        change.upsertTasks = [(task("t\(index)", version: 1), nil)]
                        change.upsertDeliveries = [delivery("d\(index)", to: "a\(index % 5)", created: index)]
                        change.events = [event("task_created", at: index), event("task_offered", at: index)]
                        return try await store.commit(change).map(\.seq)
                    }
                }
                var all: [[Int]] = []
                for try await seqs in group { all.append(seqs) }
                return all
            }
            #expect(seqs.count == 50)
            for pair in seqs { #expect(pair.count == 2 && pair[0] < pair[1]) }
            let flat = seqs.flatMap { $0 }
            #expect(Set(flat).count == 100)
            #expect(try await store.latestEventSeq() == flat.max())
            #expect(try await store.events(namespace: nil, afterSeq: 0, limit: 1000).map(\.seq) == flat.sorted())
            #expect(try await store.tasks(TaskQuery(namespace: "ns", limit: 1000)).count == 50)
        }
    }

    // MARK: - Deliveries

    @Test("available deliveries honour leases and come oldest first", arguments: Backend.allCases)
    func availableDeliveries(backend: Backend) async throws {
        try await withStore(backend) { store in
            var change = MeshChange()
            change.upsertDeliveries = [
                delivery("d-late", to: "a1", created: 30),
                delivery("d-b", to: "a1", created: 10),
                delivery("d-a", to: "a1", created: 10),
                delivery("d-leased", to: "a1", created: 5, lease: 101),
                delivery("d-lease-ends-now", to: "a1", created: 20, lease: 100),
                delivery("d-lease-over", to: "a1", created: 40, lease: 50),
                delivery("d-other", to: "a2", created: 1),
            ]
            _ = try await store.commit(change)

            let available = try await store.availableDeliveries(recipient: "a1", nowMs: 100, limit: 10)
            #expect(available.map(\.deliveryId) == ["d-a", "d-b", "d-lease-ends-now", "d-late", "d-lease-over"])
            #expect(available.allSatisfy { $0.isAvailable(nowMs: 100) })
            #expect(try await store.availableDeliveries(recipient: "a1", nowMs: 100, limit: 2).map(\.deliveryId)
                == ["d-a", "d-b"])
            #expect(try await store.availableDeliveries(recipient: "a1", nowMs: 101, limit: 10).first?.deliveryId
                == "d-leased")
            #expect(try await store.availableDeliveries(recipient: "a2", nowMs: 0, limit: 10).map(\.deliveryId)
                == ["d-other"])
            #expect(try await store.availableDeliveries(recipient: "nobody", nowMs: 100, limit: 10).isEmpty)
        }
    }

    @Test("expired offers are unanswered task offers whose lease ran out")
    func expiredOffers() async throws {
        try await withStore(.file) { store in
            var change = MeshChange()
            change.upsertDeliveries = [
                delivery("o-expired", to: "a1", kind: .taskOffer, task: "t1", created: 1, lease: 90),
                delivery("o-expires-now", to: "a2", kind: .taskOffer, task: "t2", created: 1, lease: 100),
                delivery("o-pending", to: "a1", kind: .taskOffer, task: "t3", created: 1, lease: 101),
                delivery("o-never-handed-out", to: "a1", kind: .taskOffer, task: "t4", created: 1, lease: nil),
                delivery("r-expired", to: "a1", kind: .taskResult, task: "t5", created: 1, lease: 10),
                delivery("c-expired", to: "a1", kind: .taskCanceled, task: "t6", created: 1, lease: 10),
            ]
            _ = try await store.commit(change)
            #expect(try await store.expiredOffers(nowMs: 100, limit: 10).map(\.deliveryId) == ["o-expired", "o-expires-now"])
            #expect(try await store.expiredOffers(nowMs: 100, limit: 1).map(\.deliveryId) == ["o-expired"])
            #expect(try await store.expiredOffers(nowMs: 89, limit: 10).isEmpty)
        }
    }

    @Test("a change that expects a lease conflicts once the delivery was re-leased, and writes nothing", arguments: Backend.allCases)
    func leaseConflict(backend: Backend) async throws {
        try await withStore(backend) { store in
            var setup = MeshChange()
            setup.upsertDeliveries = [
                delivery("o-1", to: "a1", kind: .taskOffer, task: "t1", created: 1, lease: 90),
                delivery("n-1", to: "a1", created: 1, lease: nil),
            ]
            _ = try await store.commit(setup)
            // A sweep read o-1 with lease 90; a poll leased it again (lease 200) before the sweep wrote.
            var poll = MeshChange()
            poll.expectedLeases = [("o-1", 90)]
            var leased = delivery("o-1", to: "a1", kind: .taskOffer, task: "t1", created: 1, lease: 200)
            leased.attempts = 2
            poll.upsertDeliveries = [leased]
            _ = try await store.commit(poll)
            var stale = MeshChange()
            stale.expectedLeases = [("o-1", 90)]
            stale.upsertDeliveries = [delivery("o-1", to: "a1", kind: .taskOffer, task: "t1", created: 1, lease: nil)]
            stale.events = [event("should.not.land")]
            await #expect(throws: MeshStoreError.leaseConflict(deliveryId: "o-1")) { try await store.commit(stale) }
            let kept = try #require(try await store.delivery(id: "o-1"))
            #expect(kept.leaseUntilMs == 200)
            #expect(kept.attempts == 2)
            #expect(try await store.latestEventSeq() == 0)
            // A lease of nil is expected as nil; a deleted delivery conflicts too.
            var release = MeshChange()
            release.expectedLeases = [("n-1", nil)]
            release.deleteDeliveries = ["n-1"]
            _ = try await store.commit(release)
            await #expect(throws: MeshStoreError.leaseConflict(deliveryId: "n-1")) { try await store.commit(release) }
        }
    }

    // MARK: - Task queries

    @Test("overdue, queued and active-count queries")
    func sweeps() async throws {
        try await withStore(.file) { store in
            var change = MeshChange()
            change.upsertTasks = [
                (task("q2", state: .queued, created: 20, deadline: 50), nil),
                (task("q1", state: .queued, created: 10), nil),
                (task("q3", ns: "ns2", state: .queued, created: 30, deadline: 100), nil),
                (task("o1", state: .offered, assignee: "a1", deadline: 200), nil),
                (task("o2", state: .accepted, assignee: "a1", deadline: 100), nil),
                (task("o3", state: .inProgress, assignee: "a2"), nil),
                (task("o4", ns: "ns2", state: .inProgress, assignee: "a1"), nil),
                (task("done", state: .completed, assignee: "a1", deadline: 1), nil),
                (task("dead", state: .deadLettered, assignee: "a2", deadline: 1), nil),
            ]
            for terminal in TaskState.allCases where terminal.isTerminal {
                change.upsertTasks.append((task("x-\(terminal.rawValue)", state: terminal, assignee: "a3", deadline: 5), nil))
            }
            _ = try await store.commit(change)

            #expect(try await store.overdueTasks(nowMs: 100, limit: 10).map(\.taskId) == ["q2", "o2", "q3"])
            #expect(try await store.overdueTasks(nowMs: 100, limit: 1).map(\.taskId) == ["q2"])
            #expect(try await store.overdueTasks(nowMs: 49, limit: 10).isEmpty)
            #expect(try await store.queuedTasks(limit: 10).map(\.taskId) == ["q1", "q2", "q3"])
            #expect(try await store.queuedTasks(limit: 2).map(\.taskId) == ["q1", "q2"])
            #expect(try await store.activeTaskCounts(namespace: "ns") == ["a1": 2, "a2": 1])
            #expect(try await store.activeTaskCounts(namespace: "ns2") == ["a1": 1])
            #expect(try await store.activeTaskCounts(namespace: "empty") == [:])
        }
    }

    @Test("task listing filters by namespace, agent and state, newest first", arguments: Backend.allCases)
    func taskQuery(backend: Backend) async throws {
        try await withStore(backend) { store in
            var change = MeshChange()
            change.upsertTasks = [
                (task("t1", from: "a1", to: "a2", state: .completed, assignee: "a2", created: 1), nil),
                (task("t2", from: "a2", to: "a3", state: .offered, assignee: "a3", created: 2), nil),
                (task("t3", from: "a3", to: nil, state: .inProgress, assignee: "a1", created: 3), nil),
                (task("t4", from: "a3", to: nil, state: .queued, created: 4), nil),
                (task("t5", ns: "ns2", from: "a1", state: .queued, created: 5), nil),
            ]
            _ = try await store.commit(change)

            func ids(_ query: TaskQuery) async throws -> [String] { try await store.tasks(query).map(\.taskId) }
            #expect(try await ids(TaskQuery(namespace: "ns")) == ["t4", "t3", "t2", "t1"])
            #expect(try await ids(TaskQuery(namespace: "ns", limit: 2)) == ["t4", "t3"])
            #expect(try await ids(TaskQuery(namespace: "ns", involving: "a1")) == ["t3", "t1"])
            #expect(try await ids(TaskQuery(namespace: "ns", involving: "a3")) == ["t4", "t3", "t2"])
            #expect(try await ids(TaskQuery(namespace: "ns", states: [.queued, .completed])) == ["t4", "t1"])
            #expect(try await ids(TaskQuery(namespace: "ns", involving: "a3", states: [.offered])) == ["t2"])
            #expect(try await ids(TaskQuery(namespace: "ns", states: [])) == [])
            #expect(try await ids(TaskQuery(namespace: "ns2")) == ["t5"])
            #expect(try await ids(TaskQuery(namespace: "nope")) == [])
        }
    }

    // MARK: - Pruning

    @Test("prune removes old terminal tasks with their deliveries and old events")
    func prune() async throws {
        try await withStore(.file) { store in
            var change = MeshChange()
            change.upsertTasks = [
                (task("old-done", state: .completed, updated: 10), nil),
                (task("old-failed", state: .failed, updated: 20), nil),
                (task("old-expired", state: .expired, updated: 20), nil),
                (task("recent-done", state: .completed, updated: 100), nil),
                (task("old-running", state: .inProgress, updated: 10), nil),
                (task("old-queued", state: .queued, updated: 10), nil),
            ]
            change.upsertDeliveries = [
                delivery("d-old-done-1", to: "a1", kind: .taskResult, task: "old-done", created: 1),
                delivery("d-old-done-2", to: "a2", kind: .taskCanceled, task: "old-done", created: 1),
                delivery("d-recent", to: "a1", kind: .taskResult, task: "recent-done", created: 1),
                delivery("d-running", to: "a2", kind: .taskOffer, task: "old-running", created: 1),
                delivery("d-unrelated", to: "a2", created: 1),
            ]
            change.events = [event("e1", at: 10), event("e2", at: 49), event("e3", at: 50), event("e4", at: 60)]
            _ = try await store.commit(change)

            // 3 tasks + 2 deliveries + 2 events.
            #expect(try await store.prune(tasksBeforeMs: 50, eventsBeforeMs: 50) == 7)

            let remaining = try await store.tasks(TaskQuery(namespace: "ns")).map(\.taskId).sorted()
            #expect(remaining == ["old-queued", "old-running", "recent-done"])
            #expect(try await store.delivery(id: "d-old-done-1") == nil)
            #expect(try await store.delivery(id: "d-old-done-2") == nil)
            #expect(try await store.delivery(id: "d-recent") != nil)
            #expect(try await store.delivery(id: "d-running") != nil)
            #expect(try await store.delivery(id: "d-unrelated") != nil)
            #expect(try await store.events(namespace: nil, afterSeq: 0, limit: 10).map(\.type) == ["e3", "e4"])
            #expect(try await store.prune(tasksBeforeMs: 50, eventsBeforeMs: 50) == 0)
        }
    }

    // MARK: - The database file

    @Test("everything is still there after closing and reopening the file")
    func persistence() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("mesh.sqlite").path
            var change = MeshChange()
            change.upsertAgents = [agent("a1"), agent("a2", machine: nil)]
            change.upsertTasks = [
                (task("t1", state: .offered, assignee: "a2", key: "k"), nil), (task("t2", state: .queued), nil),
            ]
            change.upsertDeliveries = [delivery("d1", to: "a2", kind: .taskOffer, task: "t1", created: 3, lease: 7)]
            change.events = [event("task_created", at: 3), event("task_offered", at: 4)]
            let events: [MeshEvent]
            do {
                let store = try SQLiteMeshStore(path: path)
                events = try await store.commit(change)
            }
            let reopened = try SQLiteMeshStore(path: path)
            #expect(try await reopened.agents(namespace: nil) == change.upsertAgents)
            #expect(try await reopened.task(id: "t1") == change.upsertTasks[0].task)
            #expect(try await reopened.task(namespace: "ns", from: "a1", idempotencyKey: "k")?.taskId == "t1")
            #expect(try await reopened.queuedTasks(limit: 10).map(\.taskId) == ["t2"])
            #expect(try await reopened.deliveries(taskId: "t1") == change.upsertDeliveries)
            #expect(try await reopened.expiredOffers(nowMs: 7, limit: 10) == change.upsertDeliveries)
            #expect(try await reopened.events(namespace: "ns", afterSeq: 0, limit: 10) == events)
            #expect(try await reopened.latestEventSeq() == events.last?.seq)
        }
    }

    @Test("the file is private, in WAL mode with synchronous NORMAL, and its directory is created")
    func fileSettings() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("nested/deeper/mesh.sqlite").path
            let store = try SQLiteMeshStore(path: path)
            _ = try await store.commit({ var change = MeshChange(); change.events = [event("x")]; return change }())

            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let wal = try FileManager.default.attributesOfItem(atPath: path + "-wal")
            #expect((wal[.posixPermissions] as? NSNumber)?.intValue == 0o600)

            let settings = try await store.writer.write { db in
                (
                    journal: try String.fetchOne(db, sql: "PRAGMA journal_mode"),
                    synchronous: try Int.fetchOne(db, sql: "PRAGMA synchronous"),
                    foreignKeys: try Bool.fetchOne(db, sql: "PRAGMA foreign_keys")
                )
            }
            #expect(settings.journal == "wal")
            #expect(settings.synchronous == 1)  // NORMAL
            #expect(settings.foreignKeys == true)
            let readerSync = try await store.writer.read { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
            #expect(readerSync == 1)
        }
    }

    @Test("under steady writes the log stays bounded, most of it copied in the background")
    func checkpointsUnderSteadyWrites() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("mesh.sqlite").path
            let store = try SQLiteMeshStore(path: path)
            let checkpointer = try #require(store.checkpointer)
            // 4,800 commits of ~2 KB events, 16 at a time so that batches follow each other
            // without a pause: ~12,000 log pages (48 MB) if nothing checkpointed.
            let payload = String(repeating: "p", count: 2_000)
            for round in 0..<300 {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for index in 0..<16 {
                        group.addTask { _ = try await store.commit(Self.eventChange("t\(round)-\(index)", payload)) }
                    }
                    try await group.waitForAll()
                }
            }
            // Background checkpoints that found the log and copied from it.
            #expect(checkpointer.runs.backgroundCopies >= 3)
            // The writer's fallback at 4,000 frames (16 MB of pages) bounds the log; batches that
            // land while a slow sync holds the checkpoint may take it past that, not to 48 MB.
            let walBytes = try fileSize(path + "-wal")
            #expect(walBytes > 0 && walBytes < 32 << 20, "log file: \(walBytes) bytes")
            // Nothing lost: every event is there, in the database file or the log.
            #expect(try await store.events(namespace: "ns", afterSeq: 0, limit: 5_000).count == 4_800)
        }
    }

    @Test("with pauses between bursts the writer never checkpoints and the log starts over")
    func checkpointsBetweenBursts() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("mesh.sqlite").path
            let store = try SQLiteMeshStore(path: path, checkpointTrailingDelay: .milliseconds(50))
            let checkpointer = try #require(store.checkpointer)
            let payload = String(repeating: "p", count: 2_000)
            // 16 bursts of ~400 log pages each (6,400 in all, 25 MB if the log never started over),
            // fewer than a background step, each followed by a pause in which the trailing
            // checkpoint copies the whole log.
            for burst in 0..<16 {
                for index in 0..<100 {
                    _ = try await store.commit(Self.eventChange("b\(burst)-\(index)", payload))
                }
                let runs = checkpointer.runs.background
                let deadline = ContinuousClock.now.advanced(by: .seconds(10))
                while !checkpointer.isIdle || checkpointer.runs.background == runs, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(5))
                }
            }
            #expect(checkpointer.runs.writer == 0)
            #expect(checkpointer.runs.backgroundCopies >= 16)
            // The log started over after each burst: one burst's pages (~1.6 MB), not 25 MB.
            let walBytes = try fileSize(path + "-wal")
            #expect(walBytes > 0 && walBytes < 3 << 20, "log file: \(walBytes) bytes")
            #expect(try await store.events(namespace: "ns", afterSeq: 0, limit: 5_000).count == 1_600)
        }
    }

    @Test("opening waits for another connection that briefly holds the file, instead of failing")
    func openingWaitsForALockedFile() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("mesh.sqlite").path
            _ = try SQLiteMeshStore(path: path)
            // Another process's connection with the file to itself (exclusive locking mode, a
            // write done): every other connection is refused until it closes, 300 ms later.
            var config = Configuration()
            config.label = "holder"
            let holder = try DatabaseQueue(path: path, configuration: config)
            try await holder.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE")
                try db.execute(sql: "CREATE TABLE IF NOT EXISTS held (x)")
            }
            let release = Task {
                try await Task.sleep(for: .milliseconds(300))
                try holder.close()
            }
            let started = ContinuousClock.now
            let store = try SQLiteMeshStore(path: path)
            #expect(ContinuousClock.now - started >= .milliseconds(200))
            _ = try await store.commit(Self.eventChange("after", "x"))
            try await release.value
        }
    }

    @Test("work that prefers the store's task executor runs on the store's thread, before and after mesh calls")
    func taskExecutorIsTheStoreThread() async throws {
        let store = try SQLiteMeshStore.inMemory()
        let mesh = MeshService(store: store)
        let loop = store.commits.loop
        let elsewhere = await Task { loop.inEventLoop }.value
        #expect(!elsewhere)
        let (before, after) = try await Task(executorPreference: mesh.taskExecutor) {
            let before = loop.inEventLoop
            _ = try await mesh.register(AgentRegistration(agentId: "on-the-loop"))
            return (before, loop.inEventLoop)
        }.value
        #expect(before && after)
    }

    /// A change of one event of namespace "ns", for the checkpoint tests.
    static func eventChange(_ type: String, _ payload: String) -> MeshChange {
        var change = MeshChange()
        change.events = [NewMeshEvent(namespace: "ns", type: type, payload: .string(payload), createdAtMs: 1)]
        return change
    }

    func fileSize(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.size] as? NSNumber)?.intValue ?? -1
    }

    @Test("opening an existing file keeps its data and mode; two stores can share the file")
    func reopenDoesNotTruncate() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("mesh.sqlite").path
            do {
                let store = try SQLiteMeshStore(path: path)
                _ = try await store.commit({ var change = MeshChange(); change.upsertAgents = [agent("a1")]; return change }())
            }
            try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
            // Two stores on one file (say the gateway and a CLI) share it.
            let first = try SQLiteMeshStore(path: path)
            let second = try SQLiteMeshStore(path: path)
            #expect(try await first.agent(id: "a1") != nil)
            _ = try await second.commit({ var change = MeshChange(); change.upsertAgents = [agent("a2")]; return change }())
            #expect(try await first.agent(id: "a2") != nil)
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o640)
        }
    }

    @Test("an empty change does not touch the database")
    func emptyCommit() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("mesh.sqlite").path
            let store = try SQLiteMeshStore(path: path)
            // Another connection holds the write lock: any write by the store would wait for the
            // 5 s busy timeout and then fail.
            var config = Configuration()
            config.allowsUnsafeTransactions = true
            let blocker = try DatabaseQueue(path: path, configuration: config)
            try blocker.inDatabase { db in try db.execute(sql: "BEGIN IMMEDIATE") }
            let clock = ContinuousClock()
            let start = clock.now
            #expect(try await store.commit(MeshChange()) == [])
            #expect(clock.now - start < .seconds(1))
            try blocker.inDatabase { db in try db.execute(sql: "ROLLBACK") }
        }
    }
}

// MARK: - Fixtures

/// Fixtures are members, not free functions, so they cannot clash with helpers in other test
/// files of this module.
extension SQLiteMeshStoreTests {
    enum Backend: CaseIterable, Sendable, CustomTestStringConvertible {
        case file, memory

        var testDescription: String { self == .file ? "file" : "in-memory" }
    }

    func withTemporaryDirectory<T>(_ body: (URL) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("clawgate-mesh-sqlite-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try await body(directory)
    }

    func withStore(_ backend: Backend, _ body: (SQLiteMeshStore) async throws -> Void) async throws {
        switch backend {
        case .memory:
            try await body(try SQLiteMeshStore.inMemory())
        case .file:
            try await withTemporaryDirectory { directory in
                try await body(try SQLiteMeshStore(path: directory.appendingPathComponent("mesh.sqlite").path))
            }
        }
    }

    func agent(_ id: String, ns: String = "ns", machine: String? = "m1") -> MeshAgent {
        MeshAgent(
            agentId: id, namespace: ns, name: "Agent \(id)", capabilities: ["code", "review"], agentTypes: ["claude"],
            maxConcurrentTasks: 3, models: ["opus"], description: "agent \(id)", machine: machine, registeredAtMs: 1_000,
            lastHeartbeatMs: 2_000, credentialHash: String(repeating: "ab", count: 32))
    }

    func task(
        _ id: String, ns: String = "ns", from: String = "a1", to: String? = "a2", state: TaskState = .queued,
        assignee: String? = nil, created: Int = 100, updated: Int? = nil, deadline: Int? = nil, key: String? = nil,
        version: Int = 1
    ) -> MeshTask {
        MeshTask(
            taskId: id, namespace: ns, from: from, to: to, requirements: nil, type: "code_review",
            description: "review \(id)", context: .object(["repo": .string("clawgate"), "pr": .int(7)]),
            files: ["a.swift", "b.swift"], priority: .normal, deadlineMs: deadline, idempotencyKey: key, state: state,
            assignee: assignee, rejectedBy: [], attempts: 0,
            progress: TaskProgress(percentage: 40, message: "halfway", updatedAtMs: created), result: nil, error: nil,
            createdAtMs: created, updatedAtMs: updated ?? created, version: version)
    }

    func delivery(
        _ id: String, to recipient: String, kind: DeliveryKind = .taskResult, task: String? = nil, created: Int,
        lease: Int? = nil, payload: JSONValue = .object(["ok": .bool(true)])
    ) -> MeshDelivery {
        MeshDelivery(
            deliveryId: id, namespace: "ns", recipient: recipient, kind: kind, taskId: task, payload: payload,
            createdAtMs: created, attempts: lease == nil ? 0 : 1, leaseUntilMs: lease)
    }

    func event(_ type: String, ns: String = "ns", at createdAtMs: Int = 1) -> NewMeshEvent {
        NewMeshEvent(namespace: ns, type: type, payload: .object(["type": .string(type)]), createdAtMs: createdAtMs)
    }
}
