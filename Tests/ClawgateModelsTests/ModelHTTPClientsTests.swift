import AsyncHTTPClient
import NIOCore
import NIOPosix
import Testing

@testable import ClawgateModels

@Suite("Model HTTP clients")
struct ModelHTTPClientsTests {
    @Test func perLoopClientsAnswerWithTheCallersLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let clients = ModelHTTPClients(perLoopOf: group, configuration: .init())
        var pairs: [(loop: ObjectIdentifier, client: ObjectIdentifier)] = []
        var failure: (any Error)?
        do {
            for loop in group.makeIterator() {
                let client = try await loop.submit { clients.current }.get()
                pairs.append((ObjectIdentifier(loop), ObjectIdentifier(client.eventLoopGroup)))
            }
        } catch {
            failure = error
        }
        // Off every loop: one of the clients.
        let offLoop = (0..<4).map { _ in ObjectIdentifier(clients.current) }
        try await clients.shutdown()
        try await group.shutdownGracefully()

        #expect(clients.all.count == 2)
        #expect(failure == nil)
        #expect(pairs.count == 2)
        for pair in pairs { #expect(pair.loop == pair.client) }
        #expect(Set(offLoop).isSubset(of: Set(clients.all.map(ObjectIdentifier.init))))
    }

    @Test func oneSharedClientIsAlwaysTheOne() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let client = HTTPClient(eventLoopGroup: group)
        let clients = ModelHTTPClients(client)
        var onLoops: [Bool] = []
        var failure: (any Error)?
        do {
            for loop in group.makeIterator() { onLoops.append(try await loop.submit { clients.current }.get() === client) }
        } catch {
            failure = error
        }
        let offLoop = clients.current === client
        try await clients.shutdown()
        try await group.shutdownGracefully()

        #expect(clients.all.count == 1)
        #expect(offLoop)
        #expect(failure == nil)
        #expect(onLoops == [true, true])
    }
}
