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
        #expect(clients.all.count == 2)
        for loop in group.makeIterator() {
            let chosen = try await loop.submit { clients.current }.get()
            #expect(ObjectIdentifier(chosen.eventLoopGroup) == ObjectIdentifier(loop))
        }
        // Off every loop: one of the clients, taking turns.
        let offLoop = (0..<4).map { _ in ObjectIdentifier(clients.current) }
        #expect(Set(offLoop).isSubset(of: Set(clients.all.map(ObjectIdentifier.init))))
        #expect(Set(offLoop).count == 2)
        try await clients.shutdown()
        try await group.shutdownGracefully()
    }

    @Test func oneSharedClientIsAlwaysTheOne() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let client = HTTPClient(eventLoopGroup: group)
        let clients = ModelHTTPClients(client)
        #expect(clients.all.count == 1)
        #expect(clients.current === client)
        for loop in group.makeIterator() {
            #expect(try await loop.submit { clients.current }.get() === client)
        }
        try await clients.shutdown()
        try await group.shutdownGracefully()
    }
}
