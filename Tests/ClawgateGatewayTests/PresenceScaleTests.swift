import ClawgateProtocol
import Synchronization
import Testing

@testable import ClawgateGateway

@Suite("Presence at scale")
struct PresenceScaleTests {
    func entry(_ n: Int) -> PresenceEntry {
        var entry = PresenceEntry(ts: n)
        entry.instanceId = "client-\(n)"
        return entry
    }

    @Test func listsAreCappedToTheNewestClients() {
        var gateway = PresenceEntry(ts: 0)
        gateway.mode = "gateway"
        let tracker = PresenceTracker(gatewayEntry: gateway)
        for n in 1...300 { _ = tracker.connect(entry(n), connId: "c\(n)") }
        let listed = tracker.listed
        #expect(listed.entries.count == PresenceTracker.maxListed)
        #expect(listed.entries.first?.mode == "gateway")
        #expect(listed.entries.last?.instanceId == "client-300")
        #expect(listed.entries.dropFirst().first?.instanceId == "client-\(300 - PresenceTracker.maxListed + 2)")
        #expect(listed.version == tracker.version)
        // system-presence still has everyone.
        #expect(tracker.entries.count == 301)
        #expect(tracker.count == 301)
        // A reconnect moves the client to the newest position.
        _ = tracker.connect(entry(1), connId: "c1-again")
        #expect(tracker.listed.entries.last?.instanceId == "client-1")
        // Closing one of its two connections keeps it; closing both removes it.
        #expect(tracker.disconnect(entry(1), connId: "c1") != nil)
        #expect(tracker.entries.contains { $0.instanceId == "client-1" })
        #expect(tracker.disconnect(entry(1), connId: "c1-again") != nil)
        #expect(!tracker.entries.contains { $0.instanceId == "client-1" })
        #expect(tracker.disconnect(entry(1), connId: "c1-again") == nil)
    }

    @Test func announcementsAreCoalesced() async throws {
        let sent = Mutex(0)
        let announcer = PresenceAnnouncer { sent.withLock { $0 += 1 } }
        // The first change goes out at once; a burst right after it is folded into one trailing list.
        announcer.changed(connections: 1)
        #expect(sent.withLock { $0 } == 1)
        for _ in 0..<500 { announcer.changed(connections: 1) }
        #expect(sent.withLock { $0 } == 1)
        let deadline = ContinuousClock.now + .seconds(5)
        while sent.withLock({ $0 }) < 2, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(sent.withLock { $0 } == 2)
        // Nothing else is pending.
        try await Task.sleep(for: PresenceAnnouncer.interval(connections: 1) * 3)
        #expect(sent.withLock { $0 } == 2)
    }

    @Test func intervalGrowsWithConnections() {
        #expect(PresenceAnnouncer.interval(connections: 0) == .milliseconds(50))
        #expect(PresenceAnnouncer.interval(connections: 10_000) == .milliseconds(10_050))
    }
}
