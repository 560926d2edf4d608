import ArgumentParser
import AsyncHTTPClient
import ClawgateProtocol
import ClawgateUpstream
import Foundation

/// `clawgate-bench proxy`: OpenAI chat completions sent straight to a local LLM upstream and
/// through the gateway (`POST /v1/chat/completions`, model `openclaw`, stateless), to measure
/// what the gateway adds. See BENCHMARKS.md.
struct ProxyBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "OpenAI chat completions direct to a local upstream vs. through the gateway: added latency, time to first byte, max throughput.",
        discussion: """
            The upstream (ClawgateUpstream, echo replies) runs inside this process; the gateway is the clawgate \
            binary next to this one, started with a config that points its default agent at the upstream. \
            Per target: non-stream latency at fixed open-loop rates, streamed time to first data: line, and \
            closed-loop max throughput.
            """
    )

    @Option(help: "Measured seconds per measurement (default 10; --smoke: 1).")
    var duration: Double?

    @Option(help: "Open-loop rates in requests/s for the non-stream latency, comma-separated (default 100,500,1000; --smoke: 50).")
    var rates: String?

    @Option(name: .customLong("stream-rate"), help: "Open-loop rate for the streamed time to first byte (default 100; --smoke: 50).")
    var streamRate: Double?

    @Option(help: "Closed-loop clients for the max throughput (default 64; --smoke: 4).")
    var concurrency: Int?

    @Option(help: "Seconds of the same load before each measurement, not counted (default 1; --smoke: 0).")
    var warmup: Double?

    @Flag(help: "Print one JSON object instead of summary lines.")
    var json = false

    @Flag(help: "A quick check for CI: 1 s per measurement, rate 50, concurrency 4, no warm-up (explicit options still win).")
    var smoke = false

    @Option(help: "clawgate binary to start (default: the one in this executable's build folder).")
    var gateway: String?

    @Option(name: .customLong("gateway-log-level"), help: "--log-level for the started gateway (default: its own, info).")
    var gatewayLogLevel: String?

    @Option(name: .customLong("upstream-url"), help: "An OpenAI-compatible upstream already running (base URL ending in /v1, e.g. from `clawgate-bench upstream`) instead of one inside this process.")
    var upstreamURL: String?

    @Option(name: .customLong("upstream-model"), help: "Model name for direct requests to the upstream (default m1).")
    var upstreamModel = "m1"

    @Option(name: .customLong("target-url"), help: "Measure this OpenAI-compatible endpoint (base URL ending in /v1) instead of a gateway started here, e.g. a LiteLLM proxy or a running clawgate.")
    var targetURL: String?

    @Option(name: .customLong("target-key"), help: "Bearer key for --target-url (default: $BENCH_TARGET_KEY).")
    var targetKey: String?

    @Option(name: .customLong("target-model"), help: "Model name sent to --target-url (default m1; a clawgate answers as model openclaw).")
    var targetModel = "m1"

    @Option(name: .customLong("target-name"), help: "Name of --target-url in the output (default target).")
    var targetName = "target"

    static func parseRates(_ text: String) -> [Double]? {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let values = parts.compactMap(Double.init)
        guard !values.isEmpty, values.count == parts.count, values.allSatisfy({ $0 > 0 && $0 <= 100_000 }) else { return nil }
        return values
    }

    func validate() throws {
        if let duration, !(duration > 0) { throw ValidationError("--duration must be > 0") }
        if let warmup, warmup < 0 { throw ValidationError("--warmup must be >= 0") }
        if let rates, Self.parseRates(rates) == nil { throw ValidationError("--rates: comma-separated numbers > 0, e.g. 100,500,1000") }
        if let streamRate, !(streamRate > 0 && streamRate <= 100_000) { throw ValidationError("--stream-rate must be > 0") }
        if let concurrency, !(1...4096).contains(concurrency) { throw ValidationError("--concurrency must be 1 to 4096") }
        for (name, url) in [("--upstream-url", upstreamURL), ("--target-url", targetURL)] {
            if let url, !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                throw ValidationError("\(name) must be an http(s):// base URL, e.g. http://127.0.0.1:4000/v1")
            }
        }
        if targetName == "direct" || targetName.isEmpty { throw ValidationError("--target-name must not be empty or \"direct\"") }
        if targetURL != nil && gateway != nil { throw ValidationError("--gateway and --target-url exclude each other") }
    }

    struct Settings: Sendable {
        var duration: Double
        var warmup: Double
        var rates: [Double]
        var streamRate: Double
        var concurrency: Int
        /// --smoke: the targets are printed but mean nothing at this load.
        var smoke: Bool

        var json: JSONValue {
            [
                "durationSeconds": .double(duration), "warmupSeconds": .double(warmup), "rates": .array(rates.map { .double($0) }),
                "streamRate": .double(streamRate), "concurrency": .int(concurrency), "smoke": .bool(smoke),
            ]
        }
    }

    var settings: Settings {
        Settings(
            duration: duration ?? (smoke ? 1 : 10), warmup: warmup ?? (smoke ? 0 : 1),
            rates: rates.flatMap(Self.parseRates) ?? (smoke ? [50] : [100, 500, 1000]),
            streamRate: streamRate ?? (smoke ? 50 : 100), concurrency: concurrency ?? (smoke ? 4 : 64), smoke: smoke
        )
    }

    /// The gateway's config: one OpenAI-style provider (the upstream) as the default agent's
    /// model, no tools (so no tool definitions are added to the upstream request), and the
    /// chat completions endpoint on.
    static func gatewayConfig(upstreamBaseURL: String) -> JSONValue {
        [
            "models": [
                "providers": ["local": ["baseUrl": .string(upstreamBaseURL), "api": "openai-completions", "models": [["id": "m1"]]]]
            ],
            "agents": ["defaults": ["model": "local/m1", "tools": ["allow": []]]],
            "gateway": ["http": ["endpoints": ["chatCompletions": ["enabled": true]]]],
        ]
    }

    /// The upstream of the direct leg: inside this process, or one given by --upstream-url.
    struct Upstream: Sendable {
        var baseURL: String
        var model: String
        /// nil for an external upstream (no request log, no counts).
        var server: UpstreamServer?

        var requestCount: Int? { server?.requestCount }
    }

    /// What the measured requests go through: the started gateway or --target-url.
    struct Through: Sendable {
        var name: String
        var baseURL: String
        var key: String?
        var model: String
        var spawned: Bool
        var gatewayURL: String?
    }

    func run() async throws {
        let settings = self.settings
        let server: UpstreamServer? = upstreamURL == nil ? try await UpstreamServer.start() : nil
        let upstream = Upstream(baseURL: upstreamURL ?? server?.openAIBaseURL ?? "", model: upstreamModel, server: server)
        note("upstream \(server == nil ? "(given)" : "(in this process)") at \(upstream.baseURL)")
        let outcome: Result<ProxyReport, any Error>
        do {
            outcome = .success(try await run(settings, upstream: upstream))
        } catch {
            outcome = .failure(error)
        }
        await server?.shutdown()
        let report = try outcome.get()
        if json {
            print(String(decoding: try JSONCoding.encode(report.json, sortedKeys: true), as: UTF8.self))
        } else {
            for line in report.comparisonLines { print(line) }
        }
        if let empty = report.measurements.first(where: { $0.tally.ok == 0 }) {
            throw BenchError.setup("proxy \(empty.label): no request succeeded")
        }
    }

    private func run(_ settings: Settings, upstream: Upstream) async throws -> ProxyReport {
        if let targetURL {
            let through = Through(
                name: targetName, baseURL: targetURL, key: targetKey ?? ProcessInfo.processInfo.environment["BENCH_TARGET_KEY"],
                model: targetModel, spawned: false, gatewayURL: nil
            )
            return try await run(settings, upstream: upstream, through: through)
        }
        let config = try JSONCoding.encode(Self.gatewayConfig(upstreamBaseURL: upstream.baseURL), sortedKeys: true)
        let spawned = try await SpawnedGateway.start(binary: gateway, logLevel: gatewayLogLevel, config: config)
        note("started \(spawned.process.executableURL?.path ?? "clawgate") (pid \(spawned.pid)) at \(spawned.target.url)")
        let outcome: Result<ProxyReport, any Error>
        do {
            let target = spawned.target
            let through = Through(
                name: "gateway", baseURL: target.httpBase + "/v1", key: target.token, model: "openclaw", spawned: true, gatewayURL: target.url
            )
            outcome = .success(try await run(settings, upstream: upstream, through: through))
        } catch {
            outcome = .failure(error)
        }
        await spawned.stop()
        return try outcome.get()
    }

    private func run(_ settings: Settings, upstream: Upstream, through: Through) async throws -> ProxyReport {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(120), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(30))
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let outcome: Result<ProxyReport, any Error>
        do {
            let direct = try ProxyLoad.Endpoint(name: "direct", http: http, baseURL: upstream.baseURL, token: nil, model: upstream.model)
            let measured = try ProxyLoad.Endpoint(
                name: through.name, http: http, baseURL: through.baseURL, token: through.key, model: through.model
            )
            outcome = .success(try await measure(settings, direct: direct, through: measured, upstream: upstream, target: through))
        } catch {
            outcome = .failure(error)
        }
        try? await http.shutdown()
        return try outcome.get()
    }

    private func measure(
        _ settings: Settings, direct: ProxyLoad.Endpoint, through: ProxyLoad.Endpoint, upstream: Upstream, target: Through
    ) async throws -> ProxyReport {
        // One plain and one streamed request each way: fail early with the answer if the setup is
        // wrong. With the upstream in this process, also keep what the measured path sent
        // upstream (keys, messages, tools).
        var upstreamRequest: [String: JSONValue] = [:]
        func lastUpstreamRequest() -> JSONValue {
            guard let body = upstream.server?.requests(path: "/v1/chat/completions").last?.body else { return .null }
            return [
                "keys": .array((body.objectValue?.keys.sorted() ?? []).map { .string($0) }),
                "messages": .int(body["messages"]?.arrayValue?.count ?? 0),
                "tools": .int(body["tools"]?.arrayValue?.count ?? 0),
            ]
        }
        for endpoint in [direct, through] {
            do {
                try await endpoint.complete()
                if endpoint.name == through.name { upstreamRequest["forPlain"] = lastUpstreamRequest() }
                _ = try await endpoint.stream()
                if endpoint.name == through.name { upstreamRequest["forStream"] = lastUpstreamRequest() }
            } catch {
                throw BenchError.setup("the check request \(endpoint.name) (\(endpoint.url)) failed: \(error)")
            }
        }
        if upstream.server != nil {
            note("\(through.name) → upstream requests: \(String(decoding: try JSONCoding.encode(JSONValue.object(upstreamRequest), sortedKeys: true), as: UTF8.self))")
        }

        var measurements: [ProxyMeasurement] = []
        var upstreamCounts: [String: JSONValue] = [:]
        func record(_ measurement: ProxyMeasurement, upstreamBefore: Int?) {
            if let before = upstreamBefore, let now = upstream.requestCount { upstreamCounts[measurement.label] = .int(now - before) }
            if !json { print(measurement.summaryLine) }
            measurements.append(measurement)
        }
        // Direct then the measured path for each measurement, so drift of the machine hits both alike.
        for rate in settings.rates {
            for endpoint in [direct, through] {
                note("latency \(endpoint.name): \(ProxyMeasurement.format(rate)) req/s open loop, \(settings.warmup) s warm-up + \(settings.duration) s")
                let before = upstream.requestCount
                record(
                    await ProxyLoad.openLoop(endpoint, kind: .latency, rate: rate, warmup: settings.warmup, duration: settings.duration),
                    upstreamBefore: before
                )
            }
        }
        for endpoint in [direct, through] {
            note("ttfb \(endpoint.name): streamed, \(ProxyMeasurement.format(settings.streamRate)) req/s open loop, \(settings.warmup) s warm-up + \(settings.duration) s")
            let before = upstream.requestCount
            record(
                await ProxyLoad.openLoop(endpoint, kind: .ttfb, rate: settings.streamRate, warmup: settings.warmup, duration: settings.duration),
                upstreamBefore: before
            )
        }
        for endpoint in [direct, through] {
            note("throughput \(endpoint.name): \(settings.concurrency) clients closed loop, \(settings.warmup) s warm-up + \(settings.duration) s")
            let before = upstream.requestCount
            record(
                await ProxyLoad.closedLoop(endpoint, clients: settings.concurrency, warmup: settings.warmup, duration: settings.duration),
                upstreamBefore: before
            )
        }
        return ProxyReport(
            settings: settings, measurements: measurements, upstreamURL: upstream.baseURL, upstreamInProcess: upstream.server != nil,
            through: target, upstreamRequest: .object(upstreamRequest), upstreamCounts: upstreamCounts
        )
    }
}

/// All measurements, the gateway-vs-direct comparisons and the targets.
struct ProxyReport: Sendable {
    /// Targets from the issue: the gateway adds under 1 ms at p50, and sustains 500 requests/s.
    static let targetAddedP50Ms = 1.0
    static let targetRate = 500.0

    var settings: ProxyBenchCommand.Settings
    var measurements: [ProxyMeasurement]
    var upstreamURL: String
    var upstreamInProcess: Bool
    var through: ProxyBenchCommand.Through
    var upstreamRequest: JSONValue
    var upstreamCounts: [String: JSONValue]

    func find(_ kind: ProxyLoad.Kind, _ target: String, rate: Double? = nil) -> ProxyMeasurement? {
        measurements.first { $0.kind == kind && $0.target == target && (rate == nil || $0.rate == rate) }
    }

    struct Added {
        var label: String
        var rate: Double?
        var direct: ProxyMeasurement
        /// The measured path (the gateway, or --target-url).
        var gateway: ProxyMeasurement

        var p50: Double { gateway.millis(50) - direct.millis(50) }
        var p99: Double { gateway.millis(99) - direct.millis(99) }
        var p50Ratio: Double { direct.millis(50) > 0 ? gateway.millis(50) / direct.millis(50) : 0 }
        var p99Ratio: Double { direct.millis(99) > 0 ? gateway.millis(99) / direct.millis(99) : 0 }
    }

    var added: [Added] {
        var result: [Added] = []
        for rate in settings.rates {
            if let direct = find(.latency, "direct", rate: rate), let gateway = find(.latency, through.name, rate: rate) {
                result.append(Added(label: "latency @ \(ProxyMeasurement.format(rate)) req/s", rate: rate, direct: direct, gateway: gateway))
            }
        }
        if let direct = find(.ttfb, "direct"), let gateway = find(.ttfb, through.name) {
            result.append(Added(label: "ttfb @ \(ProxyMeasurement.format(settings.streamRate)) req/s", rate: settings.streamRate, direct: direct, gateway: gateway))
        }
        if let direct = find(.throughput, "direct"), let gateway = find(.throughput, through.name) {
            result.append(Added(label: "closed-loop latency (\(settings.concurrency) clients)", rate: nil, direct: direct, gateway: gateway))
        }
        return result
    }

    var throughputRatio: Double? {
        guard let direct = find(.throughput, "direct"), let gateway = find(.throughput, through.name), direct.achievedRate > 0 else { return nil }
        return gateway.achievedRate / direct.achievedRate
    }

    /// Kept up with an open-loop rate: achieved within 1 % of it, no request failed.
    static func keptUp(_ measurement: ProxyMeasurement) -> Bool {
        measurement.tally.errors == 0 && measurement.achievedRate >= (measurement.rate ?? 0) * 0.99
    }

    /// The added p50 target, judged at the open-loop rates the gateway kept up with (at a rate
    /// it cannot keep up with, the queue decides the latency: that is the rate target's miss).
    /// `largest` is nil when it kept up with none.
    var addedP50: (largest: Double?, met: Bool, overloadedRates: [Double])? {
        let latency = added.filter { $0.gateway.kind == .latency }
        guard !latency.isEmpty else { return nil }
        let kept = latency.filter { Self.keptUp($0.gateway) }
        let largest = kept.map(\.p50).max()
        let overloaded = latency.filter { !Self.keptUp($0.gateway) }.compactMap(\.rate)
        return (largest, largest.map { $0 < Self.targetAddedP50Ms } ?? false, overloaded)
    }

    /// Sustained `targetRate` through the gateway: at that open-loop rate, the achieved rate is
    /// within 1 % and no request failed; or, if that rate was not measured, the closed-loop
    /// throughput reaches it.
    var sustained: (rate: Double, met: Bool, how: String)? {
        if let open = find(.latency, through.name, rate: Self.targetRate) {
            let met = Self.keptUp(open)
            return (open.achievedRate, met, "open loop at 500 req/s: achieved rate within 1 % and no errors")
        }
        if let closed = find(.throughput, through.name) {
            return (closed.achievedRate, closed.achievedRate >= Self.targetRate && closed.tally.errors == 0, "closed-loop throughput")
        }
        return nil
    }

    var smokeNote: String { settings.smoke ? " [--smoke: not a measurement]" : "" }

    var comparisonLines: [String] {
        func ms(_ value: Double) -> String { String(format: "%+.2f ms", value) }
        var lines = added.map {
            "proxy added \($0.label) by \(through.name): p50 \(ms($0.p50)) (\(through.name)/direct \(String(format: "%.2f", $0.p50Ratio))x), "
                + "p99 \(ms($0.p99)) (\(String(format: "%.2f", $0.p99Ratio))x)"
        }
        if let ratio = throughputRatio, let direct = find(.throughput, "direct"), let gateway = find(.throughput, through.name) {
            lines.append(
                "proxy max throughput: \(through.name) \(String(format: "%.1f", gateway.achievedRate)) req/s, direct "
                    + "\(String(format: "%.1f", direct.achievedRate)) req/s (\(through.name)/direct \(String(format: "%.2f", ratio)))"
            )
        }
        // The targets are the gateway's; another proxy is only compared.
        if through.spawned, let (largest, met, overloaded) = addedP50 {
            var line = "proxy target added p50 < 1 ms: \(met ? "met" : "MISSED") ("
                + (largest.map { "largest \(ms($0)) at the rates the gateway kept up with" } ?? "the gateway kept up with none of the rates")
            if !overloaded.isEmpty {
                line += "; not judged at \(overloaded.map(ProxyMeasurement.format).joined(separator: ", ")) req/s, which it did not keep up with"
            }
            lines.append(line + ")" + smokeNote)
        }
        if through.spawned, let (rate, met, how) = sustained {
            lines.append("proxy target sustain 500 req/s through the gateway: \(met ? "met" : "MISSED") (\(how): \(String(format: "%.1f", rate)) req/s)" + smokeNote)
        }
        return lines
    }

    var json: JSONValue {
        func rounded(_ value: Double, _ digits: Double = 1000) -> JSONValue { .double((value * digits).rounded() / digits) }
        var targets: [String: JSONValue] = [:]
        if through.spawned, let (largest, met, overloaded) = addedP50 {
            targets["addedP50Under1Ms"] = [
                "met": .bool(met), "largestAddedP50Ms": largest.map { rounded($0) } ?? .null,
                "notJudgedAtRates": .array(overloaded.map { .double($0) }),
            ]
        }
        if through.spawned, let (rate, met, how) = sustained {
            targets["sustain500"] = ["met": .bool(met), "achievedRate": rounded(rate, 10), "how": .string(how)]
        }
        var comparison: [String: JSONValue] = [
            "added": .array(added.map { entry in
                var object: [String: JSONValue] = [
                    "measurement": .string(entry.label), "kind": .string(entry.gateway.kind.rawValue),
                    "p50Ms": rounded(entry.p50), "p99Ms": rounded(entry.p99),
                    "p50Ratio": rounded(entry.p50Ratio), "p99Ratio": rounded(entry.p99Ratio),
                ]
                if let rate = entry.rate { object["rate"] = rounded(rate, 10) }
                return .object(object)
            })
        ]
        if let ratio = throughputRatio { comparison["throughputRatio"] = rounded(ratio) }
        return [
            "scenario": "proxy", "smoke": .bool(settings.smoke),
            "settings": settings.json,
            "upstream": ["url": .string(upstreamURL), "inProcess": .bool(upstreamInProcess)],
            "through": [
                "name": .string(through.name), "url": .string(through.baseURL), "model": .string(through.model),
                "spawnedGateway": .bool(through.spawned), "gatewayURL": through.gatewayURL.map { .string($0) } ?? .null,
                "upstreamRequest": upstreamRequest,
            ],
            "upstreamRequestsPerMeasurement": .object(upstreamCounts),
            "measurements": .array(measurements.map(\.json)),
            "comparison": .object(comparison),
            "targets": .object(targets),
        ]
    }
}
