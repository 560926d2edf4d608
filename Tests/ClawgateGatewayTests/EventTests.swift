import ClawgateClient
import ClawgateGateway
import ClawgateProtocol
import Foundation
import Testing

@Suite("Presence and ticks")
struct EventTests {
    @Test func uiClientAppearsInPresenceAndOthersAreTold() async throws {
        try await withGateway { gw in
            try await connect(gw.adminOptions()) { admin in
                // CLI clients are not tracked.
                let initial = try await admin.call("system-presence")
                #expect(initial.arrayValue?.count == 1)
                #expect(initial.arrayValue?.first?["mode"] == "gateway")

                var ui = gw.options(clientId: "openclaw-macos", mode: "ui", scopes: [OperatorScope.read], device: DeviceIdentity())
                ui.client.displayName = "Studio Mac"
                ui.client.instanceId = "mac-instance-1"
                ui.client.platform = "macOS"
                let uiDevice = ui.device!.deviceId
                try await connect(ui) { _ in
                    let event = try await waitForEvent(admin, "presence") { event in
                        event.payload?["presence"]?.arrayValue?.contains { $0["deviceId"] == .string(uiDevice) } == true
                    }
                    #expect(event.stateVersion != nil)
                    #expect(event.seq != nil)
                    let presence = try await admin.call("system-presence")
                    let entry = try #require(presence.arrayValue?.first { $0["deviceId"] == .string(uiDevice) })
                    #expect(entry["mode"] == "ui")
                    #expect(entry["host"] == "Studio Mac")
                    #expect(entry["instanceId"] == "mac-instance-1")
                    #expect(entry["platform"] == "macOS")
                    #expect(entry["ip"] == "127.0.0.1")
                    #expect(entry["roles"] == ["operator"])
                    #expect(entry["scopes"] == ["operator.read"])
                    #expect(entry["ts"]?.intValue != nil)
                }
                // Leaving is announced too.
                let gone = try await waitForEvent(admin, "presence") { event in
                    event.payload?["presence"]?.arrayValue?.contains { $0["deviceId"] == .string(uiDevice) } == false
                }
                #expect(gone.payload?["presence"]?.arrayValue?.count == 1)
                let after = try await admin.call("system-presence")
                #expect(after.arrayValue?.count == 1)
            }
        }
    }

    @Test func presenceStateVersionIncreases() async throws {
        try await withGateway { gw in
            try await connect(gw.adminOptions()) { admin in
                let start = admin.hello.snapshot.stateVersion.presence
                try await connect(gw.options(clientId: "openclaw-macos", mode: "ui")) { conn in
                    #expect(conn.hello.snapshot.stateVersion.presence > start)
                    // Its own entry is in its hello snapshot (keyed by connection: no device).
                    #expect(conn.hello.snapshot.presence.contains { $0.mode == "ui" })
                }
            }
        }
    }

    @Test func ticksArriveAtTheAdvertisedInterval() async throws {
        try await withGateway({ config, _ in config.gateway.limits.tickIntervalMs = 200 }) { gw in
            try await connect(gw.options(scopes: [])) { conn in
                #expect(conn.hello.policy.tickIntervalMs == 200)
                let started = ContinuousClock.now
                let first = try await waitForEvent(conn, "tick", timeout: .seconds(3))
                let second = try await waitForEvent(conn, "tick", timeout: .seconds(3))
                #expect(ContinuousClock.now - started < .seconds(2))
                #expect(first.payload?["ts"]?.intValue != nil)
                let firstSeq = try #require(first.seq)
                let secondSeq = try #require(second.seq)
                #expect(secondSeq > firstSeq)
                let firstTs = try #require(first.payload?["ts"]?.intValue)
                let secondTs = try #require(second.payload?["ts"]?.intValue)
                #expect(secondTs - firstTs >= 150)
            }
        }
    }

    /// Each connection ticks at a phase of its own (no burst of every socket at once), still once
    /// per interval. With one broadcast per interval all eight would share the first tick's `ts`.
    @Test func connectionsTickAtPhasesOfTheirOwn() async throws {
        try await withGateway({ config, _ in config.gateway.limits.tickIntervalMs = 1000 }) { gw in
            let ticks = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await connect(gw.options(scopes: [])) { conn in
                            let first = try await waitForEvent(conn, "tick", timeout: .seconds(5))
                            let second = try await waitForEvent(conn, "tick", timeout: .seconds(5))
                            return (try #require(first.payload?["ts"]?.intValue), try #require(second.payload?["ts"]?.intValue))
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(ticks.count == 8)
            #expect(Set(ticks.map(\.0)).count >= 4, "first ticks at \(ticks.map(\.0).sorted())")
            // One tick per interval, never a burst (a late first tick shortens the next gap: the
            // schedule is fixed, hence a quarter interval, not the whole one).
            for (first, second) in ticks { #expect(second - first >= 250, "ticks at \(first) and \(second)") }
        }
    }

    @Test func eventSeqIsPerConnectionAndGapFree() async throws {
        try await withGateway({ config, _ in config.gateway.limits.tickIntervalMs = 100 }) { gw in
            try await connect(gw.options(scopes: [])) { conn in
                var last: Int?
                var count = 0
                for await event in conn.events {
                    guard let seq = event.seq else { continue }
                    if let last { #expect(seq == last + 1) } else { #expect(seq >= 1) }
                    last = seq
                    count += 1
                    if count == 4 { break }
                }
                #expect(count == 4)
            }
        }
    }
}
