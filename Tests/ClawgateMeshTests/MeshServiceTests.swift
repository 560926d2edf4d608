import ClawgateMesh
import ClawgateMeshSQLite
import ClawgateProtocol
import Foundation
import Synchronization
import Testing

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let value = Mutex(1_800_000_000_000)
    var nowMs: Int { value.withLock { $0 } }
    func advance(ms: Int) { value.withLock { $0 += ms } }
}

/// Records what the service pushes, for agents the test marks as connected.
final class RecordingSink: MeshPushSink {
    private let state = Mutex<(connected: Set<String>, pushed: [MeshDelivery], events: [MeshEvent])>(([], [], []))
    func connect(_ agentId: String) { state.withLock { _ = $0.connected.insert(agentId) } }
    func isConnected(agentId: String) -> Bool { state.withLock { $0.connected.contains(agentId) } }
    func push(_ delivery: MeshDelivery) { state.withLock { $0.pushed.append(delivery) } }
    func publish(_ events: [MeshEvent]) { state.withLock { $0.events += events } }
    var pushed: [MeshDelivery] { state.withLock { $0.pushed } }
    var published: [MeshEvent] { state.withLock { $0.events } }
}

struct MeshFixture {
    let service: MeshService
    let clock: TestClock
    let store: SQLiteMeshStore

    init(settings: MeshSettings = .init(), path: String? = nil) throws {
        let clock = TestClock()
        self.clock = clock
        self.store = try path.map { try SQLiteMeshStore(path: $0) } ?? SQLiteMeshStore.inMemory()
        self.service = MeshService(store: store, settings: settings, now: { clock.nowMs })
    }

    func agent(_ id: String, namespace: String = "default", capabilities: [String] = [], max: Int = 2) async throws -> MeshAgent {
        try await service.register(
            AgentRegistration(agentId: id, namespace: namespace, capabilities: capabilities, maxConcurrentTasks: max)
        ).agent
    }
}

func meshError(_ kind: MeshError.Kind, _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("expected a \(kind.rawValue) error")
    } catch let error as MeshError {
        #expect(error.kind == kind, "\(error.message)")
    } catch {
        Issue.record("unexpected error \(error)")
    }
}

@Suite("Mesh service")
struct MeshServiceTests {
    @Test func registrationIssuesACredentialOnceAndProtectsTheId() async throws {
        let mesh = try MeshFixture()
        let (agent, credential) = try await mesh.service.register(AgentRegistration(agentId: "alpha", capabilities: ["code"]))
        let secret = try #require(credential)
        #expect(agent.namespace == "default")
        #expect(!agent.credentialHash.contains(secret))
        #expect(try await mesh.service.authenticate(agentId: "alpha", credential: secret).agentId == "alpha")
        await meshError(.forbidden) { _ = try await mesh.service.authenticate(agentId: "alpha", credential: "nope") }
        // Someone else cannot take the id over...
        await meshError(.forbidden) { _ = try await mesh.service.register(AgentRegistration(agentId: "alpha")) }
        // ...its owner can re-register, keeping the credential.
        let again = try await mesh.service.register(AgentRegistration(agentId: "alpha", capabilities: ["code", "test"]), credential: secret)
        #expect(again.credential == nil)
        #expect(again.agent.capabilities == ["code", "test"])
        // A bare re-registration (id + credential) keeps the profile and logs nothing new.
        let before = try await mesh.service.events(namespace: nil, afterSeq: 0).count
        let bare = try await mesh.service.register(AgentRegistration(agentId: "alpha"), credential: secret)
        #expect(bare.agent.capabilities == ["code", "test"])
        #expect(bare.agent.registeredAtMs == agent.registeredAtMs)
        #expect(try await mesh.service.events(namespace: nil, afterSeq: 0).count == before)
        await meshError(.invalidInput) { _ = try await mesh.service.register(AgentRegistration(agentId: "bad id!")) }
        await meshError(.invalidInput) { _ = try await mesh.service.register(AgentRegistration(maxConcurrentTasks: 0)) }
    }

    @Test func allowListsAreEnforced() async throws {
        var settings = MeshSettings()
        settings.allowedNamespaces = ["team-a"]
        let mesh = try MeshFixture(settings: settings)
        _ = try await mesh.agent("a1", namespace: "team-a")
        await meshError(.forbidden) { _ = try await mesh.agent("b1", namespace: "team-b") }
    }

    @Test func discoveryFiltersByCapabilityTypeAndStatus() async throws {
        let mesh = try MeshFixture()
        _ = try await mesh.service.register(AgentRegistration(agentId: "coder", capabilities: ["code", "review"], agentTypes: ["loki"]))
        _ = try await mesh.agent("writer", capabilities: ["docs"])
        #expect(try await mesh.service.discover(namespace: "default", capabilities: ["CODE"]).map(\.agentId) == ["coder"])
        #expect(try await mesh.service.discover(namespace: "default", agentType: "loki").map(\.agentId) == ["coder"])
        #expect(try await mesh.service.discover(namespace: "other").isEmpty)
        mesh.clock.advance(ms: 121_000)
        _ = try await mesh.service.heartbeat(agentId: "writer")
        #expect(try await mesh.service.discover(namespace: "default", status: .stale).map(\.agentId) == ["coder"])
        #expect(try await mesh.service.discover(namespace: "default", status: .online).map(\.agentId) == ["writer"])
    }

    @Test func directDelegationFullLifecycle() async throws {
        let mesh = try MeshFixture()
        _ = try await mesh.agent("boss")
        _ = try await mesh.agent("worker")
        let task = try await mesh.service.delegate(
            DelegateRequest(to: "worker", type: "summarize", description: "sum it up", context: ["doc": "x"]), from: "boss"
        )
        #expect(task.state == .offered)
        #expect(task.assignee == "worker")
        let offers = try await mesh.service.poll(agentId: "worker")
        #expect(offers.count == 1)
        #expect(offers.first?.kind == .taskOffer)
        #expect(offers.first?.payload["taskId"]?.stringValue == task.taskId)
        // Polls are not destructive, but a leased message is not handed out twice at once.
        #expect(try await mesh.service.poll(agentId: "worker").isEmpty)
        #expect(try await mesh.service.accept(taskId: task.taskId, by: "worker").state == .accepted)
        let progressed = try await mesh.service.update(taskId: task.taskId, by: "worker", percentage: 50, message: "halfway")
        #expect(progressed.state == .inProgress)
        #expect(progressed.progress?.percentage == 50)
        let done = try await mesh.service.complete(taskId: task.taskId, by: "worker", result: ["summary": "short"])
        #expect(done.state == .completed)
        // The result waits for the delegator until acknowledged.
        let results = try await mesh.service.poll(agentId: "boss")
        #expect(results.map(\.kind) == [.taskResult])
        #expect(results.first?.payload["result"]?["summary"] == "short")
        mesh.clock.advance(ms: 31_000)
        let again = try await mesh.service.poll(agentId: "boss")
        #expect(again.map(\.deliveryId) == results.map(\.deliveryId))
        #expect(again.first?.attempts == 2)
        #expect(try await mesh.service.ack(agentId: "boss", deliveryIds: again.map(\.deliveryId)) == 1)
        mesh.clock.advance(ms: 31_000)
        #expect(try await mesh.service.poll(agentId: "boss").isEmpty)
        // The event log tells the whole story in order.
        let types = try await mesh.service.events(namespace: "default", afterSeq: 0).map(\.type)
        #expect(types.suffix(5) == ["task_created", "task_offered", "task_accepted", "task_updated", "task_completed"])
    }

    @Test func routingPicksTheLeastLoadedMatchingAgentAndHonoursCapacity() async throws {
        let mesh = try MeshFixture()
        _ = try await mesh.agent("boss")
        _ = try await mesh.agent("a", capabilities: ["code"], max: 1)
        _ = try await mesh.agent("b", capabilities: ["code", "python"], max: 2)
        _ = try await mesh.agent("c", capabilities: ["docs"], max: 5)
        let request = DelegateRequest(requirements: TaskRequirements(capabilities: ["code"]), type: "fix")
        let first = try await mesh.service.delegate(request, from: "boss")
        let second = try await mesh.service.delegate(request, from: "boss")
        let third = try await mesh.service.delegate(request, from: "boss")
        let fourth = try await mesh.service.delegate(request, from: "boss")
        #expect(Set([first.assignee, second.assignee]) == Set(["a", "b"]))
        #expect(third.assignee == "b")
        // a holds 1 of 1, b 2 of 2: nobody can take the fourth yet.
        #expect(fourth.state == .queued)
        #expect(fourth.assignee == nil)
        // Capacity frees up when b finishes one; the sweep routes the queued task.
        let bTask = try #require([first, second, third].first { $0.assignee == "b" })
        _ = try await mesh.service.accept(taskId: bTask.taskId, by: "b")
        _ = try await mesh.service.complete(taskId: bTask.taskId, by: "b", result: nil)
        try await mesh.service.sweep()
        let routed = try await mesh.service.task(fourth.taskId, asSeenBy: "boss")
        #expect(routed.state == .offered)
        #expect(routed.assignee == "b")
        // Skills are matched against capabilities too.
        let python = try await mesh.service.delegate(
            DelegateRequest(requirements: TaskRequirements(skills: ["python"]), type: "py"), from: "boss"
        )
        #expect(python.state == .queued)  // b is full again
    }

    @Test func routingPrefersTheAgentWithMoreRoomLeft() async throws {
        let mesh = try MeshFixture()
        _ = try await mesh.agent("boss")
        _ = try await mesh.agent("busy", capabilities: ["code"], max: 4)
        _ = try await mesh.agent("idle", capabilities: ["code"], max: 4)
        // Load "busy" with two direct tasks (offered tasks count against capacity).
        for _ in 0..<2 { _ = try await mesh.service.delegate(DelegateRequest(to: "busy", type: "x"), from: "boss") }
        let request = DelegateRequest(requirements: TaskRequirements(capabilities: ["code"]), type: "fix")
        // "busy" sorts first by id, so only the load can make "idle" win.
        #expect(try await mesh.service.delegate(request, from: "boss").assignee == "idle")
        #expect(try await mesh.service.delegate(request, from: "boss").assignee == "idle")
        // Now 2 of 4 each: the tie goes to the lower id.
        #expect(try await mesh.service.delegate(request, from: "boss").assignee == "busy")
        let views = try await mesh.service.discover(namespace: "default", capabilities: ["code"])
        #expect(views.map(\.activeTasks) == [3, 2])
    }

    @Test func rejectionReroutesOrEndsTheTask() async throws {
        let mesh = try MeshFixture()
        _ = try await mesh.agent("boss")
        _ = try await mesh.agent("a", capabilities: ["code"])
        _ = try await mesh.agent("b", capabilities: ["code"])
        let routed = try await mesh.service.delegate(DelegateRequest(requirements: TaskRequirements(capabilities: ["code"]), type: "x"), from: "boss")
        let firstPick = try #require(routed.assignee)
        let secondPick = firstPick == "a" ? "b" : "a"
        let rerouted = try await mesh.service.reject(taskId: routed.taskId, by: firstPick, reason: "busy")
        #expect(rerouted.state == .offered)
        #expect(rerouted.assignee == secondPick)
        #expect(try await mesh.service.poll(agentId: firstPick).isEmpty)
        // Everyone rejected: it waits (queued) rather than bouncing back.
        let stuck = try await mesh.service.reject(taskId: routed.taskId, by: secondPick, reason: nil)
        #expect(stuck.state == .queued)
        // A direct task that is rejected ends, and the delegator hears about it.
        let direct = try await mesh.service.delegate(DelegateRequest(to: "a", type: "y"), from: "boss")
        let rejected = try await mesh.service.reject(taskId: direct.taskId, by: "a", reason: "no")
        #expect(rejected.state == .rejected)
        #expect(rejected.error == "rejected by a: no")
        let results = try await mesh.service.poll(agentId: "boss")
        #expect(results.contains { $0.taskId == direct.taskId && $0.payload["state"] == "rejected" })
    }

    @Test func unansweredOffersAreRedeliveredThenDeadLettered() async throws {
        var settings = MeshSettings()
        settings.maxDeliveryAttempts = 3
        let mesh = try MeshFixture(settings: settings)
        _ = try await mesh.agent("boss")
        _ = try await mesh.agent("sleepy")
        let task = try await mesh.service.delegate(DelegateRequest(to: "sleepy", type: "x"), from: "boss")
        for attempt in 1...3 {
            let offers = try await mesh.service.poll(agentId: "sleepy")
            #expect(offers.count == 1)
            #expect(offers.first?.attempts == attempt)
            mesh.clock.advance(ms: settings.leaseMs + 1)
            try await mesh.service.sweep()
        }
        let dead = try await mesh.service.task(task.taskId, asSeenBy: "boss")
        #expect(dead.state == .deadLettered)
        #expect(try await mesh.service.poll(agentId: "sleepy").isEmpty)
        let results = try await mesh.service.poll(agentId: "boss")
        #expect(results.first?.payload["state"] == "dead_lettered")
        await meshError(.illegalTransition) { _ = try await mesh.service.accept(taskId: task.taskId, by: "sleepy") }
    }

    @Test func deadlinesExpireTasksAndTellBothSides() async throws {
        let mesh = try MeshFixture()
        _ = try await mesh.agent("boss")
        _ = try await mesh.agent("worker")
        let task = try await mesh.service.delegate(
            DelegateRequest(to: "worker", type: "x", deadlineMs: mesh.clock.nowMs + 5_000), from: "boss"
        )
        _ = try await mesh.service.accept(taskId: task.taskId, by: "worker")
        mesh.clock.advance(ms: 5_001)
        try await mesh.service.sweep()
        #expect(try await mesh.service.task(task.taskId, asSeenBy: "boss").state == .expired)
        #expect(try await mesh.service.poll(agentId: "worker").map(\.kind) == [.taskCanceled])
        #expect(try await mesh.service.poll(agentId: "boss").first?.payload["state"] == "expired")
        await meshError(.invalidInput) {
            _ = try await mesh.service.delegate(DelegateRequest(to: "worker", type: "x", deadlineMs: mesh.clock.nowMs - 1), from: "boss")
        }
    }

    @Test func onlyTheRightAgentMayMoveATask() async throws {
        let mesh = try MeshFixture()
        _ = try await mesh.agent("boss")
        _ = try await mesh.agent("worker")
        _ = try await mesh.agent("intruder")
        let task = try await mesh.service.delegate(DelegateRequest(to: "worker", type: "x"), from: "boss")
        await meshError(.forbidden) { _ = try await mesh.service.accept(taskId: task.taskId, by: "intruder") }
        await meshError(.illegalTransition) { _ = try await mesh.service.complete(taskId: task.taskId, by: "worker", result: nil) }
        await meshError(.forbidden) { _ = try await mesh.service.cancel(taskId: task.taskId, by: "worker") }
        _ = try await mesh.service.accept(taskId: task.taskId, by: "worker")
        await meshError(.forbidden) { _ = try await mesh.service.complete(taskId: task.taskId, by: "intruder", result: nil) }
        let canceled = try await mesh.service.cancel(taskId: task.taskId, by: "boss")
        #expect(canceled.state == .canceled)
        #expect(try await mesh.service.poll(agentId: "worker").map(\.kind) == [.taskCanceled])
        await meshError(.illegalTransition) { _ = try await mesh.service.cancel(taskId: task.taskId, by: "boss") }
        await meshError(.notFound) { _ = try await mesh.service.accept(taskId: "no-such-task", by: "worker") }
        await meshError(.invalidInput) { _ = try await mesh.service.delegate(DelegateRequest(type: "x"), from: "boss") }
        await meshError(.invalidInput) { _ = try await mesh.service.delegate(DelegateRequest(to: "boss", type: "x"), from: "boss") }
        await meshError(.notFound) { _ = try await mesh.service.delegate(DelegateRequest(to: "ghost", type: "x"), from: "boss") }
    }

    @Test func namespacesAreIsolated() async throws {
        let mesh = try MeshFixture()
        _ = try await mesh.agent("boss", namespace: "a")
        _ = try await mesh.agent("worker", namespace: "a")
        _ = try await mesh.agent("outsider", namespace: "b")
        let task = try await mesh.service.delegate(DelegateRequest(to: "worker", type: "x"), from: "boss")
        await meshError(.notFound) { _ = try await mesh.service.task(task.taskId, asSeenBy: "outsider") }
        await meshError(.notFound) { _ = try await mesh.service.cancel(taskId: task.taskId, by: "outsider") }
        await meshError(.notFound) { _ = try await mesh.service.delegate(DelegateRequest(to: "worker", type: "x"), from: "outsider") }
        #expect(try await mesh.service.events(namespace: "b", afterSeq: 0).allSatisfy { $0.namespace == "b" })
        #expect(try await mesh.service.discover(namespace: "b").map(\.agentId) == ["outsider"])
    }

    @Test func idempotencyKeyReturnsTheSameTaskEvenUnderConcurrency() async throws {
        let mesh = try MeshFixture()
        _ = try await mesh.agent("boss")
        _ = try await mesh.agent("worker", max: 100)
        let service = mesh.service
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    try await service.delegate(DelegateRequest(to: "worker", type: "x", idempotencyKey: "once"), from: "boss").taskId
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(ids.count == 1)
        #expect(try await mesh.service.poll(agentId: "worker").count == 1)
    }

    @Test func eventsResumeFromASequenceWithoutGaps() async throws {
        let mesh = try MeshFixture()
        _ = try await mesh.agent("boss")
        _ = try await mesh.agent("worker")
        let before = try await mesh.service.events(namespace: nil, afterSeq: 0)
        let cursor = try #require(before.last?.seq)
        let task = try await mesh.service.delegate(DelegateRequest(to: "worker", type: "x"), from: "boss")
        _ = try await mesh.service.accept(taskId: task.taskId, by: "worker")
        let after = try await mesh.service.events(namespace: "default", afterSeq: cursor)
        #expect(after.map(\.type) == ["task_created", "task_offered", "task_accepted"])
        #expect(after.map(\.seq) == Array((cursor + 1)...(cursor + 3)))
    }

    @Test func connectedAgentsGetPushesOnlyAfterTheCommit() async throws {
        let mesh = try MeshFixture()
        let sink = RecordingSink()
        await mesh.service.setSink(sink)
        _ = try await mesh.agent("boss")
        _ = try await mesh.agent("worker")
        sink.connect("worker")
        let task = try await mesh.service.delegate(DelegateRequest(to: "worker", type: "x"), from: "boss")
        let pushed = try #require(sink.pushed.first)
        #expect(pushed.kind == .taskOffer)
        #expect(pushed.attempts == 1)
        #expect(pushed.leaseUntilMs == mesh.clock.nowMs + mesh.service.settings.leaseMs)
        // It is stored (leased), so a poll does not hand it out again meanwhile.
        #expect(try await mesh.service.poll(agentId: "worker").isEmpty)
        #expect(sink.published.contains { $0.type == "task_offered" })
        // boss is not connected: its result waits for a poll.
        _ = try await mesh.service.accept(taskId: task.taskId, by: "worker")
        _ = try await mesh.service.complete(taskId: task.taskId, by: "worker", result: nil)
        #expect(sink.pushed.count == 1)
        #expect(try await mesh.service.poll(agentId: "boss").count == 1)
    }

    @Test func oversizedPayloadsAndBadAcksAreRefused() async throws {
        var settings = MeshSettings()
        settings.maxMessageBytes = 1_000
        let mesh = try MeshFixture(settings: settings)
        _ = try await mesh.agent("boss")
        _ = try await mesh.agent("worker")
        await meshError(.tooLarge) {
            _ = try await mesh.service.delegate(
                DelegateRequest(to: "worker", type: "x", context: .string(String(repeating: "y", count: 2_000))), from: "boss"
            )
        }
        let task = try await mesh.service.delegate(DelegateRequest(to: "worker", type: "x"), from: "boss")
        let offer = try #require(try await mesh.service.poll(agentId: "worker").first)
        await meshError(.invalidInput) { _ = try await mesh.service.ack(agentId: "worker", deliveryIds: [offer.deliveryId]) }
        await meshError(.notFound) { _ = try await mesh.service.ack(agentId: "boss", deliveryIds: [offer.deliveryId]) }
        await meshError(.invalidInput) { _ = try await mesh.service.update(taskId: task.taskId, by: "worker", percentage: 101, message: nil) }
    }

    @Test func everythingSurvivesAReopen() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mesh-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/mesh.sqlite"
        let taskId: String
        do {
            let mesh = try MeshFixture(path: path)
            _ = try await mesh.agent("boss")
            _ = try await mesh.agent("worker")
            taskId = try await mesh.service.delegate(DelegateRequest(to: "worker", type: "x"), from: "boss").taskId
        }
        let reopened = try MeshFixture(path: path)
        let offers = try await reopened.service.poll(agentId: "worker")
        #expect(offers.map(\.taskId) == [taskId])
        _ = try await reopened.service.accept(taskId: taskId, by: "worker")
        _ = try await reopened.service.complete(taskId: taskId, by: "worker", result: "ok")
        #expect(try await reopened.service.poll(agentId: "boss").first?.payload["result"] == "ok")
    }
}

extension MeshServiceTests {
    @Test func lapsedResultsArePushedAgainOrReleasedForPolls() async throws {
        let mesh = try MeshFixture()
        let sink = RecordingSink()
        await mesh.service.setSink(sink)
        _ = try await mesh.agent("boss")
        _ = try await mesh.agent("worker")
        sink.connect("boss")
        let task = try await mesh.service.delegate(DelegateRequest(to: "worker", type: "x"), from: "boss")
        _ = try await mesh.service.accept(taskId: task.taskId, by: "worker")
        _ = try await mesh.service.complete(taskId: task.taskId, by: "worker", result: "r")
        #expect(sink.pushed.filter { $0.kind == .taskResult }.count == 1)
        // Not acknowledged within the lease: the sweep pushes it again.
        mesh.clock.advance(ms: mesh.service.settings.leaseMs + 1)
        try await mesh.service.sweep()
        let results = sink.pushed.filter { $0.kind == .taskResult }
        #expect(results.count == 2)
        #expect(results.last?.attempts == 2)
        #expect(results.map(\.deliveryId) == Array(repeating: results[0].deliveryId, count: 2))
        // A recipient that is not connected gets it on its next poll after the lease.
        _ = try await mesh.agent("quiet")
        let other = try await mesh.service.delegate(DelegateRequest(to: "worker", type: "x"), from: "quiet")
        _ = try await mesh.service.accept(taskId: other.taskId, by: "worker")
        _ = try await mesh.service.complete(taskId: other.taskId, by: "worker", result: nil)
        let first = try await mesh.service.poll(agentId: "quiet")
        #expect(first.count == 1)
        mesh.clock.advance(ms: mesh.service.settings.leaseMs + 1)
        try await mesh.service.sweep()
        #expect(try await mesh.service.poll(agentId: "quiet").map(\.deliveryId) == first.map(\.deliveryId))
    }
}
