import ArgumentParser
import ClawgateProtocol
import Foundation

/// `clawgate-bench`: load generator for a Clawgate gateway. See BENCHMARKS.md.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clawgate-bench",
        abstract: "Benchmarks for a Clawgate gateway (starts its own unless --url is given).",
        subcommands: [MeshBenchCommand.self, RPCBenchCommand.self, ProxyBenchCommand.self]
    )
}

/// Options every scenario shares.
struct CommonOptions: ParsableArguments {
    @Option(help: "Gateway to load (ws://host:port). Default: start the clawgate binary next to this one.")
    var url: String?

    @Option(help: "Shared token for --url (default: $OPENCLAW_GATEWAY_TOKEN).")
    var token: String?

    @Option(help: "Measured seconds per transport (default 10; --smoke: 2).")
    var duration: Double?

    @Option(help: "Concurrent load tasks: delegator/worker pairs or connections (default 16; --smoke: 2).")
    var concurrency: Int?

    @Option(help: "Seconds of load before measuring (default 2; --smoke: 0).")
    var warmup: Double?

    @Flag(help: "Print one JSON object instead of summary lines.")
    var json = false

    @Flag(help: "Also print where an operation's time goes (p50 / p99 of each step, client side).")
    var breakdown = false

    @Flag(help: "A quick check for CI: 2 s, concurrency 2, no warm-up (explicit options still win).")
    var smoke = false

    @Option(help: "clawgate binary to start when --url is not given.")
    var gateway: String?

    @Option(name: .customLong("gateway-log-level"), help: "--log-level for the started gateway (default: its own, info).")
    var gatewayLogLevel: String?

    func validate() throws {
        if let duration, !(duration > 0) { throw ValidationError("--duration must be > 0") }
        if let warmup, warmup < 0 { throw ValidationError("--warmup must be >= 0") }
        if let concurrency, !(1...4096).contains(concurrency) { throw ValidationError("--concurrency must be 1 to 4096") }
    }

    func settings(namespacePerPair: Bool = false) -> LoadSettings {
        LoadSettings(
            concurrency: concurrency ?? (smoke ? 2 : 16), duration: duration ?? (smoke ? 2 : 10), warmup: warmup ?? (smoke ? 0 : 2),
            namespacePerPair: namespacePerPair
        )
    }

    /// Runs `body` against --url, or against a gateway started for it and stopped afterwards.
    func withTarget<T: Sendable>(_ body: (BenchTarget) async throws -> T) async throws -> T {
        if let url {
            return try await body(BenchTarget(url: url, token: token ?? ProcessInfo.processInfo.environment["OPENCLAW_GATEWAY_TOKEN"], spawned: false))
        }
        let spawned = try await SpawnedGateway.start(binary: gateway, logLevel: gatewayLogLevel)
        note("started \(spawned.process.executableURL?.path ?? "clawgate") (pid \(spawned.process.processIdentifier)) at \(spawned.target.url)")
        let result: Result<T, any Error>
        do {
            result = .success(try await body(spawned.target))
        } catch {
            result = .failure(error)
        }
        await spawned.stop()
        return try result.get()
    }

    func printSummary(_ result: RunResult) {
        if case .double(let setup) = result.extra["setupSeconds"] {
            note("\(result.scenario) \(result.transport): connected and registered in \(setup) s")
        }
        if !result.tally.events.isEmpty {
            let counts = result.tally.events.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            note("\(result.scenario) \(result.transport): pushed events read: " + counts.joined(separator: ", "))
        }
        guard !json else { return }
        print(result.summaryLine)
        if breakdown && !result.tally.steps.isEmpty { print(result.breakdownLine) }
    }

    func report(scenario: String, target: BenchTarget, settings: LoadSettings, results: [RunResult]) throws {
        if json {
            let object: JSONValue = [
                "scenario": .string(scenario),
                "gateway": ["url": .string(target.url), "spawned": .bool(target.spawned)],
                "settings": [
                    "concurrency": .int(settings.concurrency), "durationSeconds": .double(settings.duration),
                    "warmupSeconds": .double(settings.warmup),
                ],
                "results": .array(results.map(\.json)),
            ]
            print(String(decoding: try JSONCoding.encode(object, sortedKeys: true), as: UTF8.self))
        }
        if results.contains(where: { $0.tally.count == 0 }) {
            throw BenchError.setup("a transport completed no operation in the measured window")
        }
    }
}

struct MeshBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mesh",
        abstract: "Durable delegation round trips (delegate → offer → accept → complete → result → ack)."
    )

    enum Transport: String, ExpressibleByArgument, CaseIterable {
        case ws, http, both
    }

    enum Namespaces: String, ExpressibleByArgument, CaseIterable {
        case shared
        case perPair = "per-pair"
    }

    @OptionGroup var common: CommonOptions

    @Option(help: "ws (gateway socket, mesh.*), http (ClawLink API) or both (default).")
    var transport: Transport = .both

    @Option(help: "WS only: all pairs in one namespace (shared, default) or one namespace per pair.")
    var namespaces: Namespaces = .shared

    @Flag(help: "WS only: agents register with events: true (live mesh.event pushes of their namespace's log).")
    var events = false

    func run() async throws {
        var settings = common.settings(namespacePerPair: namespaces == .perPair)
        settings.liveEvents = events
        try await common.withTarget { target in
            var results: [RunResult] = []
            if transport != .http {
                note("mesh ws: \(settings.concurrency) pairs, \(settings.warmup) s warm-up + \(settings.duration) s")
                let result = try await MeshWebSocketLoad.run(settings, target: target)
                common.printSummary(result)
                results.append(result)
            }
            if transport != .ws {
                note("mesh http: \(settings.concurrency) pairs, \(settings.warmup) s warm-up + \(settings.duration) s")
                let result = try await MeshHTTPLoad.run(settings, target: target)
                common.printSummary(result)
                results.append(result)
            }
            try common.report(scenario: "mesh", target: target, settings: settings, results: results)
        }
    }
}

struct RPCBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rpc",
        abstract: "Non-durable baseline: one gateway method (default health) called back to back on each connection."
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Method to call (default health).")
    var method = "health"

    @Option(help: "Params as JSON (default none).")
    var params: String?

    func run() async throws {
        let settings = common.settings()
        let parsed: JSONValue? = try params.map { try JSONCoding.decode(JSONValue.self, from: Data($0.utf8)) }
        try await common.withTarget { target in
            note("rpc \(method): \(settings.concurrency) connections, \(settings.warmup) s warm-up + \(settings.duration) s")
            let result = try await RPCLoad.run(settings, target: target, method: method, params: parsed)
            common.printSummary(result)
            try common.report(scenario: "rpc", target: target, settings: settings, results: [result])
        }
    }
}
