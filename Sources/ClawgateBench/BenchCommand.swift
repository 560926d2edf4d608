import ArgumentParser
import ClawgateProtocol
import Foundation

/// `clawgate-bench`: load generator for a Clawgate gateway. See BENCHMARKS.md.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clawgate-bench",
        abstract: "Benchmarks for a Clawgate gateway (starts its own unless --url is given).",
        subcommands: [
            HandshakeBenchCommand.self, RPCBenchCommand.self, MeshBenchCommand.self, ConnectionsBenchCommand.self,
            FanoutBenchCommand.self, ProxyBenchCommand.self, StartupBenchCommand.self, SoakBenchCommand.self,
            UpstreamCommand.self,
        ]
    )
}

/// Which gateway to load and how to print: every scenario has these.
struct TargetOptions: ParsableArguments {
    @Option(help: "Gateway to load (ws://host:port). Default: start a clawgate (release build when there is one).")
    var url: String?

    @Option(help: "Shared token for --url (default: $OPENCLAW_GATEWAY_TOKEN).")
    var token: String?

    @Option(help: "With --url: the gateway's process id, to read its RSS from /proc/<pid>/status.")
    var pid: Int32?

    @Flag(help: "Print one JSON object instead of summary lines.")
    var json = false

    @Flag(help: "A quick check for CI: seconds and a small N (explicit options still win).")
    var smoke = false

    @Option(help: "clawgate binary to start when --url is not given (default: ../release/clawgate from a debug bench when it exists, else the one next to this executable).")
    var gateway: String?

    @Option(name: .customLong("gateway-log-level"), help: "--log-level for the started gateway (default: its own, info).")
    var gatewayLogLevel: String?

    /// Runs `body` against --url, or against a gateway started for it (with `config` as its
    /// config file) and stopped afterwards.
    func withTarget<T: Sendable>(config: JSONValue? = nil, _ body: (BenchTarget) async throws -> T) async throws -> T {
        if let url {
            let target = BenchTarget(
                url: url, token: token ?? ProcessInfo.processInfo.environment["OPENCLAW_GATEWAY_TOKEN"], spawned: false, pid: pid
            )
            return try await body(target)
        }
        let spawned = try await spawn(config: config)
        let result: Result<T, any Error>
        do {
            result = .success(try await body(spawned.target))
        } catch {
            result = .failure(error)
        }
        await spawned.stop()
        return try result.get()
    }

    /// Starts a gateway (whatever --url says); the caller stops it.
    func spawn(config: JSONValue? = nil) async throws -> SpawnedGateway {
        let configData = try config.map { try JSONCoding.encode($0, sortedKeys: true) }
        let spawned = try await SpawnedGateway.start(binary: gateway, logLevel: gatewayLogLevel, config: configData)
        note("started \(spawned.process.executableURL?.path ?? "clawgate") (pid \(spawned.pid)) at \(spawned.target.url)")
        return spawned
    }

    /// Prints `object` as one line of JSON (with --json).
    func printJSON(_ object: JSONValue) throws {
        guard json else { return }
        print(String(decoding: try JSONCoding.encode(object, sortedKeys: true), as: UTF8.self))
    }

    /// Prints a summary line (without --json).
    func summary(_ line: String) {
        if !json { print(line) }
    }
}

/// Options of the closed-loop scenarios (handshake, rpc, mesh).
struct CommonOptions: ParsableArguments {
    @OptionGroup var target: TargetOptions

    @Option(help: "Measured seconds per run (default 10; --smoke: 1).")
    var duration: Double?

    @Option(help: "Concurrent load tasks: delegator/worker pairs or connections (default 16; --smoke: 2).")
    var concurrency: Int?

    @Option(help: "Seconds of load before measuring (default 2; --smoke: 0).")
    var warmup: Double?

    @Flag(help: "Also print where an operation's time goes (p50 / p99 of each step, client side).")
    var breakdown = false

    var json: Bool { target.json }
    var smoke: Bool { target.smoke }

    func validate() throws {
        if let duration, !(duration > 0) { throw ValidationError("--duration must be > 0") }
        if let warmup, warmup < 0 { throw ValidationError("--warmup must be >= 0") }
        if let concurrency, !(1...4096).contains(concurrency) { throw ValidationError("--concurrency must be 1 to 4096") }
    }

    func settings(namespacePerPair: Bool = false) -> LoadSettings {
        LoadSettings(
            concurrency: concurrency ?? (smoke ? 2 : 16), duration: duration ?? (smoke ? 1 : 10), warmup: warmup ?? (smoke ? 0 : 2),
            namespacePerPair: namespacePerPair
        )
    }

    func withTarget<T: Sendable>(config: JSONValue? = nil, _ body: (BenchTarget) async throws -> T) async throws -> T {
        try await target.withTarget(config: config, body)
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
                "gateway": target.json, "smoke": .bool(smoke),
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
        abstract: "Non-durable baseline: one gateway method (default health) called back to back on each connection, at 1, 16 and 256 connections.",
        discussion: """
            The connections share one paired device (cli clients with operator.read/write), so they are not in \
            presence. Each level is its own run against the same gateway.
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Method to call (default health).")
    var method = "health"

    @Option(help: "Params as JSON (default none).")
    var params: String?

    @Option(help: "Concurrent connections per run, comma-separated (default 1,16,256; --smoke: 1,4). --concurrency N runs N only.")
    var levels: String?

    func validate() throws {
        if let levels, Self.parseLevels(levels) == nil {
            throw ValidationError("--levels: comma-separated integers from 1 to 4096, e.g. 1,16,256")
        }
    }

    static func parseLevels(_ text: String) -> [Int]? {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let values = parts.compactMap { Int($0) }
        guard !values.isEmpty, values.count == parts.count, values.allSatisfy({ (1...4096).contains($0) }) else { return nil }
        return values
    }

    func run() async throws {
        let base = common.settings()
        let runLevels: [Int] = common.concurrency.map { [$0] } ?? levels.flatMap(Self.parseLevels) ?? (common.smoke ? [1, 4] : [1, 16, 256])
        let parsed: JSONValue? = try params.map { try JSONCoding.decode(JSONValue.self, from: Data($0.utf8)) }
        try await common.withTarget { target in
            let identity = try await BenchIdentity.pair(target)
            var results: [RunResult] = []
            for level in runLevels {
                var settings = base
                settings.concurrency = level
                // Connecting is cheap without presence; 32 at a time stays well under the
                // gateway's 256 unauthenticated sockets.
                settings.setupParallelism = 32
                note("rpc \(method): \(level) connections, \(settings.warmup) s warm-up + \(settings.duration) s")
                let result = try await RPCLoad.run(settings, identity: identity, method: method, params: parsed)
                common.printSummary(result)
                results.append(result)
            }
            try common.report(scenario: "rpc", target: target, settings: base, results: results)
        }
    }
}
