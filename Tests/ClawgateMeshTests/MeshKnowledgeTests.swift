import ClawgateMesh
import ClawgateProtocol
import Foundation
import Testing

@Suite("Mesh broadcasts, files and state")
struct MeshKnowledgeTests {
    @Test func broadcastsReachOtherAgentsWhoWantTheTopicAndKeepABoundedHistory() async throws {
        var settings = MeshSettings()
        settings.broadcastHistory = 3
        let mesh = try MeshFixture(settings: settings)
        _ = try await mesh.agent("speaker")
        _ = try await mesh.agent("listener")
        _ = try await mesh.service.register(AgentRegistration(agentId: "picky", topics: ["security"]))
        _ = try await mesh.agent("elsewhere", namespace: "other")
        let sent = try await mesh.service.broadcast(from: "speaker", content: "use the new API", topic: "general", tags: ["api"])
        #expect(sent.recipients == 1)
        let received = try await mesh.service.poll(agentId: "listener")
        #expect(received.map(\.kind) == [.broadcast])
        #expect(received.first?.payload["content"] == "use the new API")
        #expect(try await mesh.service.poll(agentId: "picky").isEmpty)
        #expect(try await mesh.service.poll(agentId: "speaker").isEmpty)
        #expect(try await mesh.service.poll(agentId: "elsewhere").isEmpty)
        #expect(try await mesh.service.broadcast(from: "speaker", content: "rotate keys", topic: "security", tags: []).recipients == 2)
        // Acknowledged broadcasts are gone; unacknowledged ones come back after the lease.
        #expect(try await mesh.service.ack(agentId: "listener", deliveryIds: received.map(\.deliveryId)) == 1)
        for index in 0..<5 {
            mesh.clock.advance(ms: 1)
            _ = try await mesh.service.broadcast(from: "speaker", content: "n\(index)", topic: nil, tags: [])
        }
        let history = try await mesh.service.broadcasts(asSeenBy: "listener")
        #expect(history.map(\.content) == ["n4", "n3", "n2"])
        await meshError(.invalidInput) { _ = try await mesh.service.broadcast(from: "speaker", content: "", topic: nil, tags: []) }
    }

    @Test func sharedFilesAreVersionedWithOptimisticConcurrency() async throws {
        var settings = MeshSettings()
        settings.maxFileBytes = 100
        let mesh = try MeshFixture(settings: settings)
        _ = try await mesh.agent("a")
        _ = try await mesh.agent("b")
        let first = try await mesh.service.putFile(by: "a", key: "plan.md", content: "v1", fileType: nil, ifVersion: 0)
        #expect(first.version == 1)
        #expect(first.fileType == "text")
        // b is told, a (the editor) is not.
        let notices = try await mesh.service.poll(agentId: "b")
        #expect(notices.map(\.kind) == [.fileUpdated])
        #expect(notices.first?.payload["file_key"] == "plan.md")
        #expect(try await mesh.service.poll(agentId: "a").isEmpty)
        // A stale write is refused; a current one goes through.
        await meshError(.conflict) { _ = try await mesh.service.putFile(by: "b", key: "plan.md", content: "x", fileType: nil, ifVersion: 0) }
        let second = try await mesh.service.putFile(by: "b", key: "plan.md", content: "v2", fileType: "markdown", ifVersion: 1)
        #expect(second.version == 2)
        #expect(second.lastEditor == "b")
        #expect(try await mesh.service.file(asSeenBy: "a", key: "plan.md").content == "v2")
        #expect(try await mesh.service.files(asSeenBy: "a").map(\.size) == [2])
        await meshError(.tooLarge) {
            _ = try await mesh.service.putFile(by: "a", key: "big", content: String(repeating: "x", count: 101), fileType: nil, ifVersion: nil)
        }
        await meshError(.conflict) { _ = try await mesh.service.deleteFile(by: "a", key: "plan.md", ifVersion: 1) }
        #expect(try await mesh.service.deleteFile(by: "a", key: "plan.md", ifVersion: 2).version == 2)
        await meshError(.notFound) { _ = try await mesh.service.file(asSeenBy: "a", key: "plan.md") }
        await meshError(.invalidInput) { _ = try await mesh.service.putFile(by: "a", key: "", content: "", fileType: nil, ifVersion: nil) }
    }

    @Test func stateSyncHonoursTheConflictPolicies() async throws {
        let mesh = try MeshFixture()
        _ = try await mesh.agent("a")
        _ = try await mesh.agent("b")
        let initial: JSONValue = ["status": "running", "tasks": ["t1"], "cost": ["usd": 1]]
        #expect(try await mesh.service.setState(by: "a", key: "session", value: initial, policy: .lastWriteWins, ifVersion: nil).version == 1)
        // merge: objects merge recursively, arrays gain what they lack, scalars are replaced.
        let merged = try await mesh.service.setState(
            by: "b", key: "session", value: ["tasks": ["t1", "t2"], "cost": ["tokens": 10], "status": "done"], policy: .merge,
            ifVersion: nil
        )
        #expect(merged.value == ["status": "done", "tasks": ["t1", "t2"], "cost": ["usd": 1, "tokens": 10]])
        #expect(merged.version == 2)
        // reject: only with the current version.
        await meshError(.conflict) {
            _ = try await mesh.service.setState(by: "a", key: "session", value: [:], policy: .reject, ifVersion: 1)
        }
        await meshError(.invalidInput) {
            _ = try await mesh.service.setState(by: "a", key: "session", value: [:], policy: .reject, ifVersion: nil)
        }
        let replaced = try await mesh.service.setState(by: "a", key: "session", value: ["status": "new"], policy: .reject, ifVersion: 2)
        #expect(replaced.value == ["status": "new"])
        // last-write-wins replaces whatever is there.
        let overwritten = try await mesh.service.setState(by: "b", key: "session", value: ["x": 1], policy: .lastWriteWins, ifVersion: nil)
        #expect(overwritten.value == ["x": 1])
        #expect(overwritten.version == 4)
        #expect(try await mesh.service.state(asSeenBy: "a", key: "session").updatedBy == "b")
        #expect(ConflictPolicy(parsing: "last_write_wins") == .lastWriteWins)
        #expect(ConflictPolicy(parsing: "LWW") == .lastWriteWins)
    }
}
