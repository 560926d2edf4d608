import ClawgateClient
import ClawgateGateway
import ClawgateProtocol
import Foundation
import Testing

@Suite("Slow consumer")
struct SlowConsumerTests {
    struct Observation: Sendable {
        var admitted: Bool
        var totalDuringFlood: Int
        var totalAfter: Int
        var elapsed: Duration
        var framesAfterResuming: Int
    }

    @Test func readerThatStopsReadingIsCutOff() async throws {
        try await withGateway({ config, _ in
            config.gateway.limits.maxBufferedBytes = 65_536
            config.gateway.limits.slowConsumerTimeoutMs = 1_000
        }, timeout: .seconds(45)) { gw in
            try await connect(gw.adminOptions(), timeout: .seconds(40)) { observer in
                #expect(observer.hello.policy.maxBufferedBytes == 65_536)
                let baseline = try await connectionTotal(observer)
                #expect(baseline == 1)
                let outcome = try await withRawSocket(gw, timeout: .seconds(35)) { session in
                    let challenge = try await session.challenge()
                    try await session.sendConnect(try signedConnectParams(DeviceIdentity(), nonce: challenge.nonce, token: gw.token))
                    let hello = try await session.response(id: "connect-1")
                    let duringFlood = try await connectionTotal(observer)

                    // Flood requests and never read the answers.
                    let outbound = session.outbound
                    let flood = Task {
                        for index in 0..<50_000 {
                            try await outbound.write(.text(#"{"type":"req","id":"h\#(index)","method":"health"}"#))
                        }
                    }
                    let started = ContinuousClock.now
                    var total = duringFlood
                    while ContinuousClock.now - started < .seconds(20) {
                        try await Task.sleep(for: .milliseconds(100))
                        total = try await connectionTotal(observer)
                        if total == baseline { break }
                    }
                    let elapsed = ContinuousClock.now - started
                    flood.cancel()
                    _ = await flood.result
                    // Resume reading: whatever was in flight, then the close (or a reset).
                    let frames = await session.remaining()
                    return Observation(
                        admitted: hello.ok, totalDuringFlood: duringFlood, totalAfter: total, elapsed: elapsed,
                        framesAfterResuming: frames.count
                    )
                }
                let seen = outcome.value
                #expect(seen.admitted)
                #expect(seen.totalDuringFlood == baseline + 1)
                #expect(seen.totalAfter == baseline, "the slow consumer is still registered after \(seen.elapsed)")
                #expect(seen.elapsed < .seconds(15))  // debug build, 2 shared cores: the kernel socket buffers fill first
                // We never got anywhere near all answers.
                #expect(seen.framesAfterResuming < 50_000)
                if let code = outcome.closeCode {
                    #expect(code == 1008)
                    #expect(outcome.closeReason == "slow consumer")
                }
                // The gateway is fine and the observer unaffected.
                #expect(try await observer.call("health")["ok"] == true)
                let observed = try await connectionTotal(observer)
                #expect(observed == baseline)
                // The cut-off is counted, once, for the gateway socket.
                let metrics = try await scrapeMetrics(gw)
                #expect(metrics.value("clawgate_slow_consumer_closes_total", ["socket": "gateway"]) == 1)
                #expect(metrics.value("clawgate_slow_consumer_closes_total", ["socket": "clawlink"]) == 0)
            }
        }
    }
}

extension SlowConsumerTests {
    /// A client that pipelines many requests but reads every answer promptly is not a slow
    /// consumer: its responses wait for room in the buffer (throttling its requests) instead of
    /// tripping the limit, even with the minimum 64 KiB buffer.
    @Test func pipeliningReaderIsNotCutOff() async throws {
        try await withGateway({ config, _ in config.gateway.limits.maxBufferedBytes = 65_536 }, timeout: .seconds(30)) { gw in
            let count = 5_000
            let outcome = try await withRawSocket(gw, timeout: .seconds(25)) { session in
                let challenge = try await session.challenge()
                try await session.sendConnect(try signedConnectParams(DeviceIdentity(), nonce: challenge.nonce, token: gw.token))
                #expect(try await session.response(id: "connect-1").ok)
                let outbound = session.outbound
                let writer = Task {
                    for index in 0..<count {
                        try await outbound.write(.text(#"{"type":"req","id":"p\#(index)","method":"health"}"#))
                    }
                }
                var answered = 0
                // Ends early when the gateway closes the socket.
                while answered < count, let frame = try await session.next() {
                    if frame["type"] == "res" {
                        #expect(frame["ok"] == true)
                        answered += 1
                    }
                }
                writer.cancel()
                _ = await writer.result
                return answered
            }
            #expect(outcome.value == count)
            // We closed normally; the gateway did not cut us off first.
            #expect(outcome.closeCode == 1000)
        }
    }
}
