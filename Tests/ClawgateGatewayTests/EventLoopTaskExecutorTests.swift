import ClawgateModels
import NIOCore
import NIOPosix
import Testing

@testable import ClawgateGateway

@Suite("Event loop task executor")
struct EventLoopTaskExecutorTests {
    @Test func aPreferringTaskRunsOnTheLoopAcrossSuspensions() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loop = group.next()
        let onLoop = await withTaskExecutorPreference(EventLoopTaskExecutor(loop)) { () async -> [Bool] in
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
        #expect(onLoop == [true, true, true, true])
        try await group.shutdownGracefully()
    }

    /// Unstructured tasks do not inherit an executor preference; the request paths pass it on
    /// through `TaskAffinity`, and without it such a task runs on the global executor.
    @Test func unstructuredTasksFollowTheAffinity() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let executor = EventLoopTaskExecutor(loop)
        let (withAffinity, without) = await withTaskExecutorPreference(executor) { () async -> (Bool, Bool) in
            let followed = await TaskAffinity.$executor.withValue(executor) {
                await Task(executorPreference: TaskAffinity.executor) { loop.inEventLoop }.value
            }
            let unset = await Task(executorPreference: TaskAffinity.executor) { loop.inEventLoop }.value
            return (followed, unset)
        }
        #expect(withAffinity)
        #expect(!without)
        try await group.shutdownGracefully()
    }
}
