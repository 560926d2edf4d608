import ClawgateProtocol
import Foundation
import Testing

/// Runs every `clawgate-bench` scenario as the real executable in `--smoke --json` mode against
/// the debug gateway of this build, and checks that what it prints is a sane measurement:
/// operations happened, rates are positive, percentiles are ordered, nothing failed. No timing
/// thresholds: performance is judged by the benchmark runs in BENCHMARKS.md, not here.
@Suite("clawgate-bench smoke", .serialized)
struct BenchSmokeTests {
    static func executable(_ name: String) -> String {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [
            here.appendingPathComponent(name).path,
            here.deletingLastPathComponent().appendingPathComponent(name).path,
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(".build/debug/\(name)").path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? name
    }

    struct BenchFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `clawgate-bench <arguments> --smoke --json --gateway <debug clawgate>` and decodes
    /// the one JSON object it prints.
    static func run(_ arguments: [String], gateway: Bool = true) async throws -> JSONValue {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable("clawgate-bench"))
        process.arguments = arguments + ["--smoke", "--json"] + (gateway ? ["--gateway", executable("clawgate")] : [])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-smoke-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outPath = directory.appendingPathComponent("stdout").path
        let errPath = directory.appendingPathComponent("stderr").path
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: outPath)
        process.standardError = FileHandle(forWritingAtPath: errPath)
        try process.run()
        let startedAt = Date()
        while process.isRunning {
            if Date().timeIntervalSince(startedAt) > 180 {
                process.terminate()
                throw BenchFailure(description: "clawgate-bench \(arguments.joined(separator: " ")) still running after 180 s")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            throw BenchFailure(
                description: "clawgate-bench \(arguments.joined(separator: " ")) exited with \(process.terminationStatus): \(stderr.suffix(3000))"
            )
        }
        let lines = stdout.split(separator: "\n").filter { !$0.isEmpty }
        guard lines.count == 1, let line = lines.first else {
            throw BenchFailure(description: "expected one JSON line on stdout, got \(lines.count): \(stdout.prefix(2000))")
        }
        return try JSONCoding.decode(JSONValue.self, from: Data(line.utf8))
    }

    static func number(_ value: JSONValue?) -> Double? {
        switch value {
        case .int(let int): return Double(int)
        case .double(let double): return double
        default: return nil
        }
    }

    /// p50 ≤ p99 ≤ max (when given), all ≥ 0, and p50 > 0 unless `zeroAllowed`.
    static func expectOrdered(_ latency: JSONValue?, _ what: String, zeroAllowed: Bool = false) {
        let p50 = number(latency?["p50"]) ?? -1
        let p99 = number(latency?["p99"]) ?? -1
        let max = number(latency?["max"]) ?? p99
        #expect(zeroAllowed ? p50 >= 0 : p50 > 0, "\(what): p50 \(p50)")
        #expect(p50 <= p99, "\(what): p50 \(p50) > p99 \(p99)")
        #expect(p99 <= max, "\(what): p99 \(p99) > max \(max)")
    }

    static func results(_ report: JSONValue, scenario: String) -> [JSONValue] {
        #expect(report["scenario"]?.stringValue == scenario)
        #expect(report["smoke"]?.boolValue == true)
        return report["results"]?.arrayValue ?? []
    }

    @Test("handshake: token and device connects, ordered latencies")
    func handshake() async throws {
        let report = try await Self.run(["handshake"])
        let results = Self.results(report, scenario: "handshake")
        let transports = results.compactMap { $0["transport"]?.stringValue }
        #expect(transports == ["token", "device"])
        for result in results {
            #expect((Self.number(result["rate"]) ?? 0) > 0)
            #expect((result["count"]?.intValue ?? 0) > 0)
            Self.expectOrdered(result["latencyMs"], "handshake \(transports)")
        }
    }

    @Test("rpc: health at each concurrency level")
    func rpc() async throws {
        let report = try await Self.run(["rpc"])
        let results = Self.results(report, scenario: "rpc")
        let levels = results.compactMap { $0["concurrency"]?.intValue }
        #expect(levels == [1, 4])
        for result in results {
            #expect((Self.number(result["rate"]) ?? 0) > 0)
            #expect((result["count"]?.intValue ?? 0) > 0)
            Self.expectOrdered(result["latencyMs"], "rpc")
        }
    }

    @Test("mesh: durable round trips over WS and the ClawLink HTTP API")
    func mesh() async throws {
        let report = try await Self.run(["mesh"])
        let results = Self.results(report, scenario: "mesh")
        #expect(results.compactMap { $0["transport"]?.stringValue } == ["ws", "http"])
        for result in results {
            #expect((Self.number(result["rate"]) ?? 0) > 0)
            #expect((result["count"]?.intValue ?? 0) > 0)
            Self.expectOrdered(result["latencyMs"], "mesh")
        }
    }

    @Test("connections: every client held, RSS read, ticks timed")
    func connections() async throws {
        let report = try await Self.run(["connections"])
        let results = Self.results(report, scenario: "connections")
        #expect(results.count == 1)
        let result = results.first ?? .null
        #expect(result["connections"]?.intValue == 100)
        #expect(result["connected"]?.intValue == 100)
        #expect(result["dropped"]?.intValue == 0)
        #expect(result["tickIntervalMs"]?.intValue == 200)
        #expect((Self.number(result["rssBeforeMB"]) ?? 0) > 0)
        #expect((Self.number(result["rssHeldMB"]) ?? 0) > 0)
        #expect(Self.number(result["rssPerConnectionKB"]) != nil)
        #expect((result["tickGaps"]?.intValue ?? 0) > 0)
        Self.expectOrdered(result["tickLatenessMs"], "tick lateness", zeroAllowed: true)
    }

    @Test("fanout: every agent gets every broadcast")
    func fanout() async throws {
        let report = try await Self.run(["fanout"])
        let results = Self.results(report, scenario: "fanout")
        let result = results.first ?? .null
        #expect(result["agents"]?.intValue == 20)
        #expect(result["rounds"]?.intValue == 3)
        #expect((Self.number(result["messagesPerSecond"]) ?? 0) > 0)
        let toLast = result["timeToLastMs"]
        let minimum = Self.number(toLast?["min"]) ?? -1
        let median = Self.number(toLast?["p50"]) ?? -1
        let maximum = Self.number(toLast?["max"]) ?? -1
        #expect(minimum > 0 && minimum <= median && median <= maximum)
        Self.expectOrdered(result["deliveryMs"], "fanout delivery")
        let recipients = (result["perRound"]?.arrayValue ?? []).compactMap { $0["recipients"]?.intValue }
        #expect(recipients == [20, 20, 20])
    }

    @Test("proxy: direct and through the gateway, no errors")
    func proxy() async throws {
        let report = try await Self.run(["proxy"])
        #expect(report["scenario"]?.stringValue == "proxy")
        #expect(report["through"]?["name"]?.stringValue == "gateway")
        let measurements = report["measurements"]?.arrayValue ?? []
        #expect(measurements.count == 6)
        for measurement in measurements {
            let label = "\(measurement["kind"]?.stringValue ?? "?") \(measurement["target"]?.stringValue ?? "?")"
            #expect((measurement["ok"]?.intValue ?? 0) > 0, "\(label)")
            #expect(measurement["errors"]?.intValue == 0, "\(label)")
            #expect((Self.number(measurement["achievedRate"]) ?? 0) > 0, "\(label)")
            Self.expectOrdered(measurement["latencyMs"], label)
        }
        #expect((Self.number(report["comparison"]?["throughputRatio"]) ?? 0) > 0)
    }

    @Test("startup: ready after listening, idle RSS read")
    func startup() async throws {
        let report = try await Self.run(["startup"])
        let result = Self.results(report, scenario: "startup").first ?? .null
        let ready = result["readyMs"]
        let minimum = Self.number(ready?["min"]) ?? -1
        let median = Self.number(ready?["p50"]) ?? -1
        let maximum = Self.number(ready?["max"]) ?? -1
        #expect(minimum > 0 && minimum <= median && median <= maximum)
        let runs = result["runs"]?.arrayValue ?? []
        #expect(runs.count == 2)
        for run in runs {
            let listening = Self.number(run["listeningMs"]) ?? -1
            let readyMs = Self.number(run["readyMs"]) ?? -1
            #expect(listening > 0 && listening <= readyMs)
        }
        #expect((Self.number(result["idleRssMB"]) ?? 0) > 0)
    }

    @Test("soak: three loads, RSS samples and a slope")
    func soak() async throws {
        let report = try await Self.run(["soak"])
        let result = Self.results(report, scenario: "soak").first ?? .null
        #expect((result["rssSamples"]?.arrayValue?.count ?? 0) >= 3)
        #expect(Self.number(result["rssSlopeMBPerHour"]) != nil)
        for kind in ["rpc", "mesh", "proxy"] {
            let workload = result["workloads"]?[kind]
            #expect((workload?["count"]?.intValue ?? 0) > 0, "\(kind)")
            #expect(workload?["errors"]?.intValue == 0, "\(kind)")
            Self.expectOrdered(workload?["latencyMs"], "soak \(kind)")
        }
    }

    @Test("upstream as its own process, and proxy --upstream-url / --target-url against it")
    func upstreamAndExternalTarget() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable("clawgate-bench"))
        process.arguments = ["upstream", "--port", "0"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        let handle = out.fileHandleForReading
        let firstLine = await Task.detached {
            var bytes: [UInt8] = []
            while !bytes.contains(UInt8(ascii: "\n")) {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                bytes += chunk
            }
            return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }.value
        let prefix = "upstream listening on "
        #expect(firstLine.hasPrefix(prefix + "http://127.0.0.1:"))
        let url = String(firstLine.dropFirst(prefix.count))
        // The same OpenAI-compatible server as the direct leg and as the measured target: the
        // path scripts/bench-litellm.sh takes with LiteLLM as the target.
        let report = try await Self.run(
            ["proxy", "--upstream-url", url, "--target-url", url, "--target-name", "self", "--target-model", "m1"], gateway: false
        )
        #expect(report["upstream"]?["inProcess"]?.boolValue == false)
        #expect(report["through"]?["name"]?.stringValue == "self")
        #expect(report["through"]?["spawnedGateway"]?.boolValue == false)
        let measurements = report["measurements"]?.arrayValue ?? []
        #expect(measurements.count == 6)
        for measurement in measurements {
            #expect((measurement["ok"]?.intValue ?? 0) > 0)
            #expect(measurement["errors"]?.intValue == 0)
        }
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
