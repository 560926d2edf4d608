import ArgumentParser
import ClawgateClient
import ClawgateProtocol
import Foundation
import Logging

/// `clawgate-bench handshake`: connects per second and handshake latency, with the shared token
/// and with an Ed25519 device identity.
struct HandshakeBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "handshake",
        abstract: "Connects/s and handshake latency (socket open → hello-ok), token auth and Ed25519 device auth.",
        discussion: """
            N clients (ClawgateClient) each connect, wait for hello-ok and close, back to back. Latency is from \
            opening the socket to hello-ok; the rate counts whole connect + close cycles. token: shared token, \
            cli client (no scopes, not in presence). device: each client has its own Ed25519 device, paired during \
            setup (loopback auto-approval, reported as pairing), then signs the challenge on every connect and \
            presents the shared token and its device token.
            """
    )

    enum Auth: String, ExpressibleByArgument, CaseIterable {
        case token, device, both
    }

    @OptionGroup var common: CommonOptions

    @Option(help: "token, device or both (default).")
    var auth: Auth = .both

    func run() async throws {
        let settings = common.settings()
        try await common.withTarget { target in
            var results: [RunResult] = []
            for mode in [Auth.token, .device] where auth == .both || auth == mode {
                note("handshake \(mode.rawValue): \(settings.concurrency) clients, \(settings.warmup) s warm-up + \(settings.duration) s")
                let result = try await HandshakeLoad.run(settings, target: target, device: mode == .device)
                common.printSummary(result)
                results.append(result)
            }
            try common.report(scenario: "handshake", target: target, settings: settings, results: results)
        }
    }
}

enum HandshakeLoad {
    static func run(_ settings: LoadSettings, target: BenchTarget, device: Bool) async throws -> RunResult {
        let barrier = StartBarrier(parties: settings.concurrency, warmup: settings.warmup, duration: settings.duration)
        let logger = Logger(label: "clawgate-bench")
        let outcomes = try await barrier.runParties(settings.concurrency) { _ in
            var options = GatewayClientOptions(url: target.url, token: target.token, client: BenchIdentity.client, scopes: [])
            var pairingNs: UInt64?
            if device {
                let pairingStartNs = MonotonicClock.nowNs()
                options = try await BenchIdentity.pair(target, scopes: [OperatorScope.read]).options()
                pairingNs = MonotonicClock.nowNs() - pairingStartNs
            }
            let clientOptions = options
            let schedule = try await barrier.arrive {}
            var tally = Tally()
            if let pairingNs { _ = tally.steps["pairing", default: Tally().histogram].record(Tally.micros(0, pairingNs)) }
            while !schedule.isOver {
                let startNs = MonotonicClock.nowNs()
                let helloNs = try await GatewayClient.withConnection(clientOptions, logger: logger) { _ in MonotonicClock.nowNs() }
                let closedNs = MonotonicClock.nowNs()
                tally.record(startNs: startNs, endNs: helloNs, schedule: schedule)
                tally.lastEndNs = max(tally.lastEndNs, closedNs)
                tally.recordStep("connect+close", startNs: startNs, endNs: closedNs, operationStartNs: startNs, schedule: schedule)
            }
            try await barrier.finished()
            return (tally, schedule)
        }
        guard let schedule = outcomes.first?.1 else { throw BenchError.setup("no clients ran") }
        return RunResult(
            scenario: "handshake", transport: device ? "device" : "token", concurrency: settings.concurrency,
            unit: settings.concurrency == 1 ? "client" : "clients", operation: "handshakes", rateUnit: "connects/s",
            tally: Tally.merged(outcomes.map(\.0)), schedule: schedule,
            extra: ["auth": .string(device ? "shared token + Ed25519 device signature + device token" : "shared token")],
            stepOrder: ["connect+close", "pairing"]
        )
    }
}
