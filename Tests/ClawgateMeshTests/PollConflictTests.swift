import ClawgateMesh
import ClawgateMeshSQLite
import Testing

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
