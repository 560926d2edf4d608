import AsyncHTTPClient
import ClawgateAgents
import ClawgateModels
import ClawgateSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

@Suite("Event loop task executor")
struct EventLoopTaskExecutorTests {
    @Test func aPreferringTaskRunsOnTheLoopAcrossSuspensions() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loop = group.next()
        let onLoop = await withTaskExecutorPreference(EventLoopTaskExecutor(loop: loop)) { () async -> [Bool] in
            var seen = [loop.inEventLoop]
            await Task.yield()
            seen.append(loop.inEventLoop)
            try? await Task.sleep(for: .milliseconds(5))
            seen.append(loop.inEventLoop)
            // A structured child inherits the preference.
            async let child = loop.inEventLoop
            seen.append(await child)
            return seen
        }
        try await group.shutdownGracefully()
        #expect(onLoop == [true, true, true, true])
    }

    /// Where an agent run starts, seen by its observer: a stateless run follows the caller's
    /// `TaskAffinity` onto the loop; a session run (it writes its transcript with `fsync`) stays
    /// off every event loop.
    @Test func statelessRunsFollowTheAffinityAndSessionRunsStayOffTheLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let client = HTTPClient(eventLoopGroup: group)
        let stateDir = FileManager.default.temporaryDirectory.appendingPathComponent("clawgate-affinity-\(UUID().uuidString)").path
        let catalog = AgentCatalog(agents: [])
        let runtime = AgentRuntime(
            setup: AgentRuntime.Setup(
                catalog: catalog, router: ModelRouter(providers: [], httpClient: client, logger: Logger(label: "test")), tools: ToolRegistry()
            ),
            sessions: SessionStore(stateDir: stateDir), logger: Logger(label: "test")
        )

        /// Submits from a task on `loop` (with the affinity), returns whether the run started on
        /// the loop, and waits for its end.
        func startedOnLoop(_ request: RunRequest) async throws -> Bool {
            let executor = EventLoopTaskExecutor(loop: loop)
            let (events, continuation) = AsyncStream.makeStream(of: Bool.self)
            try await withTaskExecutorPreference(executor) {
                try TaskAffinity.$executor.withValue(executor) {
                    _ = try runtime.submit(request) { event in
                        switch event {
                        case .started: continuation.yield(MultiThreadedEventLoopGroup.currentEventLoop != nil)
                        case .finished: continuation.finish()
                        default: break
                        }
                    }
                }
            }
            var seen: [Bool] = []
            for await onLoop in events { seen.append(onLoop) }
            return seen == [true]
        }

        let stateless = try await startedOnLoop(
            RunRequest(runId: "r1", sessionKey: .ephemeral(agentId: "main", runId: "r1"), conversation: .ephemeral([ChatMessage(role: .user, text: "hi")]))
        )
        let session = try await startedOnLoop(
            RunRequest(runId: "r2", sessionKey: .main(of: "main", catalog: catalog), conversation: .session(newMessages: [ChatMessage(role: .user, text: "hi")]))
        )
        await runtime.shutdown()
        try await client.shutdown()
        try await group.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: stateDir)

        #expect(stateless)
        #expect(!session)
    }
}
