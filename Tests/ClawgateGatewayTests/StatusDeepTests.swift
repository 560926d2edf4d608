import ClawgateGateway
import Foundation
import Testing

/// Whether nothing listens on 127.0.0.1:`port` (a bind succeeds).
func isLoopbackPortFree(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
}

/// A loopback port that is free right now.
func freeLoopbackPort() throws -> Int {
    for _ in 0..<50 {
        let port = Int.random(in: 20_000...60_000)
        if isLoopbackPortFree(port) { return port }
    }
    throw TestTimeout(what: "no free port found")
}

/// `clawgate gateway status --deep` finding a second gateway on this machine.
@Suite("Gateway status --deep")
struct StatusDeepTests {
    @Test func warnsAboutASecondGatewayOnANearbyPort() async throws {
        let dir = try CLIProcessTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let environment = CLIProcessTests.environment(stateDir: dir)
        let first = try await CLIProcessTests.RunningGateway(environment: environment)
        defer { Task { _ = await first.stop() } }
        // The second one runs from ~/.openclaw of the same HOME (a known state dir) on a port
        // within ten of the first.
        let nearby = try #require((1...10).map { first.port + $0 }.first { $0 <= 65535 && isLoopbackPortFree($0) })
        let otherStateDir = dir + "/.openclaw"
        let second = try await CLIProcessTests.RunningGateway(
            port: nearby, environment: CLIProcessTests.environment(stateDir: otherStateDir, extra: ["HOME": dir])
        )
        defer { Task { _ = await second.stop() } }

        var client = environment
        client["OPENCLAW_GATEWAY_PORT"] = String(first.port)
        let deep = try await CLIProcessTests.run(["gateway", "status", "--deep"], environment: client)
        #expect(deep.status == 0, "stderr: \(deep.stderr)")
        #expect(deep.stdout.contains("Readiness: ready"))
        #expect(deep.stdout.contains("Agents: 1 hosted; mesh 0 registered"))
        #expect(
            deep.stdout.contains(
                "warning: another gateway at ws://127.0.0.1:\(nearby) (state dir \(otherStateDir), pid \(second.process.processIdentifier))"
            ),
            "\(deep.stdout)"
        )
        #expect(!deep.stdout.contains("another gateway at ws://127.0.0.1:\(first.port)"))

        let json = try await CLIProcessTests.run(["gateway", "status", "--deep", "--json"], environment: client)
        #expect(json.status == 0)
        #expect(json.stdout.contains(#""port":\#(nearby)"#))

        // Without --deep nothing is scanned.
        let plain = try await CLIProcessTests.run(["gateway", "status"], environment: client)
        #expect(!plain.stdout.contains("warning: another gateway"))
        #expect(await second.stop() == 0)
        #expect(await first.stop() == 0)
    }
}
