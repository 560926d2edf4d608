import ClawgateMesh
import ClawgateMeshSQLite
import Synchronization
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
        let store = InterferingStore(inner: try SQLiteMeshStore.inMemory())
        // Before each of the next six commits that lease deliveries it read (more than the old
        // poll's five attempts), the first of them is re-leased by "someone else".
        let stolen = Mutex<[String: Int]>([:])
        let inner = store.inner
        store.beforeCommit.withLock {
            $0 = { change in
                guard let target = change.expectedLeases.first, stolen.withLock({ $0.count < 6 }),
                    var delivery = try await inner.delivery(id: target.deliveryId)
                else { return }
                var steal = MeshChange()
                steal.expectedLeases = [(delivery.deliveryId, delivery.leaseUntilMs)]
                delivery.leaseUntilMs = stolenLease
                steal.upsertDeliveries = [delivery]
                _ = try await inner.commit(steal)
                stolen.withLock { $0[delivery.deliveryId] = stolenLease }
            }
        }
        let mesh = MeshService(store: store, now: { clock.nowMs })
        _ = try await mesh.register(AgentRegistration(agentId: "boss"))
        _ = try await mesh.register(AgentRegistration(agentId: "worker"))
        var taskIds: [String] = []
        for index in 0..<8 {
            taskIds.append(try await mesh.delegate(DelegateRequest(to: "worker", type: "job-\(index)"), from: "boss").taskId)
        }

        let polled = try await mesh.poll(agentId: "worker")

        let stolenLeases = stolen.withLock { $0 }
        #expect(stolenLeases.count == 6)
        #expect(polled.count == 2)
        #expect(Set(polled.map(\.deliveryId)).isDisjoint(with: stolenLeases.keys))
        #expect(Set(polled.compactMap(\.taskId)).isSubset(of: taskIds))
        for delivery in polled {
            #expect(delivery.leaseUntilMs == clock.nowMs + MeshSettings().leaseMs)
            #expect(try await store.delivery(id: delivery.deliveryId)?.leaseUntilMs == clock.nowMs + MeshSettings().leaseMs)
        }
        // The other leases stand: nothing of this poll overwrote them.
        for (deliveryId, lease) in stolenLeases {
            #expect(try await store.delivery(id: deliveryId)?.leaseUntilMs == lease)
        }
        // Nothing is left to hand out until those leases run out; then they come back.
        #expect(try await mesh.poll(agentId: "worker").isEmpty)
        clock.advance(ms: 60_001)
        #expect(try await mesh.poll(agentId: "worker").count == 8)
    }
}
