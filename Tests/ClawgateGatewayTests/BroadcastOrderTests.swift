import ClawgateClient
import ClawgateProtocol
import Foundation
import Testing

@testable import ClawgateGateway

/// A broadcast is handed to each event loop with that loop's sockets (and written there at
/// once when nothing of the socket's waits in the loop's queue): every client must still get
/// every broadcast, in the order they were made, with its own gap-free `seq`.
@Suite("Broadcast order")
struct BroadcastOrderTests {
    @Test func broadcastsArriveInOrderOnEverySocket() async throws {
        try await withGateway({ config, _ in config.gateway.limits.tickIntervalMs = 60_000 }) { gw in
            let clients = 6
            let rounds = 300
            try await withThrowingTaskGroup(of: [Int].self) { group in
                let ready = AsyncStream<Void>.makeStream()
                for _ in 0..<clients {
                    group.addTask {
                        try await connect(gw.options(scopes: [])) { conn in
                            ready.continuation.yield()
                            var seen: [Int] = []
                            var lastSeq: Int?
                            for await event in conn.events {
                                if let seq = event.seq {
                                    if let lastSeq { #expect(seq == lastSeq + 1) }
                                    lastSeq = seq
                                }
                                guard event.event == "test.order", let n = event.payload?["n"]?.intValue else { continue }
                                seen.append(n)
                                if seen.count == rounds { break }
                            }
                            return seen
                        }
                    }
                }
                var connected = 0
                for await _ in ready.stream {
                    connected += 1
                    if connected == clients { break }
                }
                // From this task, interleaved with the other traffic the gateway sends on its own.
                for n in 0..<rounds {
                    gw.core.registry.broadcast(event: "test.order", payload: ["n": JSONValue.int(n)], droppable: false)
                    if n % 50 == 0 { await Task.yield() }
                }
                var finished = 0
                for try await seen in group {
                    #expect(seen == Array(0..<rounds))
                    finished += 1
                }
                #expect(finished == clients)
            }
        }
    }
}
