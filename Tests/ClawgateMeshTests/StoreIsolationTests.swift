import ClawgateMesh
import ClawgateMeshSQLite
import Foundation
import Testing

extension MeshService {
    /// The thread the mesh actor runs on (an isolated method of the actor).
    func actorThread() -> pthread_t { pthread_self() }
}

@Suite("Mesh store calls run on the mesh actor's thread")
struct StoreIsolationTests {
    /// On the actor's own thread (the store's loop), where the store reads and stages
    /// synchronously. Not proven here: that no other job runs in between (see BENCHMARKS.md,
    /// the actor yields the loop at an await even on its own thread).
    @Test("the mesh actor's store reads and commits run on the actor's own thread")
    func storeCallsRunOnTheActorThread() async throws {
        let store = InterferingStore(inner: try SQLiteMeshStore.inMemory())
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
