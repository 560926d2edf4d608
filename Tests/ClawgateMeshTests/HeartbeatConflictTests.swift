import ClawgateMesh
import ClawgateMeshSQLite
import Synchronization
import Testing

@Suite("Mesh heartbeats under concurrent writes")
struct HeartbeatConflictTests {
    /// Heartbeats (and polls, which count as one) wrote back the whole agent as read at the
    /// start of the call, so a re-registration that landed in between was undone.
    @Test("a heartbeat or poll does not undo a re-registration that landed before its write")
    func heartbeatKeepsAConcurrentReRegistration() async throws {
        let clock = TestClock()
        let store = InterferingStore(inner: try SQLiteMeshStore.inMemory())
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
