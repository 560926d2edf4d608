import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// One sample line of the Prometheus text format.
struct MetricSample: Sendable, Equatable {
    var name: String
    var labels: [String: String]
    var value: Double
}

/// A parsed `/metrics` answer.
struct MetricsScrape: Sendable {
    let text: String
    let samples: [MetricSample]
    /// `# TYPE` per family name.
    let types: [String: String]
    /// `# HELP` per family name.
    let help: [String: String]

    init(text: String) throws {
        self.text = text
        var samples: [MetricSample] = []
        var types: [String: String] = [:]
        var help: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1)
                if parts.count == 2 { types[String(parts[0])] = String(parts[1]) }
            } else if line.hasPrefix("# HELP ") {
                let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1)
                if parts.count == 2 { help[String(parts[0])] = String(parts[1]) }
            } else if !line.hasPrefix("#") {
                samples.append(try Self.parseSample(String(line)))
            }
        }
        self.samples = samples
        self.types = types
        self.help = help
    }

    struct ParseError: Error, CustomStringConvertible {
        var line: String
        var description: String { "cannot parse metrics line: \(line)" }
    }

    /// `name{a="x",b="y"} value` (label values with `\\`, `\"`, `\n` escapes).
    static func parseSample(_ line: String) throws -> MetricSample {
        let chars = Array(line)
        var index = 0
        var name = ""
        while index < chars.count, chars[index] != "{", chars[index] != " " {
            name.append(chars[index])
            index += 1
        }
        var labels: [String: String] = [:]
        if index < chars.count, chars[index] == "{" {
            index += 1
            while index < chars.count, chars[index] != "}" {
                var key = ""
                while index < chars.count, chars[index] != "=" {
                    key.append(chars[index])
                    index += 1
                }
                index += 2  // `="`
                var value = ""
                while index < chars.count, chars[index] != "\"" {
                    if chars[index] == "\\", index + 1 < chars.count {
                        index += 1
                        value.append(chars[index] == "n" ? "\n" : chars[index])
                    } else {
                        value.append(chars[index])
                    }
                    index += 1
                }
                index += 1  // closing quote
                if index < chars.count, chars[index] == "," { index += 1 }
                labels[key.trimmingCharacters(in: .whitespaces)] = value
            }
            index += 1  // `}`
        }
        let rest = String(chars[min(index, chars.count)...]).trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, let value = Double(rest.split(separator: " ").first.map(String.init) ?? "") else {
            throw ParseError(line: line)
        }
        return MetricSample(name: name, labels: labels, value: value)
    }

    /// Samples of `name` whose labels include every pair of `labels`.
    func matching(_ name: String, _ labels: [String: String] = [:]) -> [MetricSample] {
        samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }
    }

    /// The value of the one sample matching; nil when none or several match.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let found = matching(name, labels)
        return found.count == 1 ? found[0].value : nil
    }

    /// The sum over every matching sample (0 when none match).
    func sum(_ name: String, _ labels: [String: String] = [:]) -> Double {
        matching(name, labels).reduce(0) { $0 + $1.value }
    }

    /// Every family name with a `# TYPE` line.
    var families: Set<String> { Set(types.keys) }
}

struct HTTPAnswer: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: String
}

/// `GET <path>` with optional headers.
func httpGet(_ url: String, headers: [(String, String)] = []) async throws -> HTTPAnswer {
    var request = HTTPClientRequest(url: url)
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    let body = try await response.body.collect(upTo: 16 << 20)
    return HTTPAnswer(status: Int(response.status.code), headers: response.headers, body: String(buffer: body))
}

/// Scrapes `/metrics` with the gateway's token; fails unless the answer is 200.
func scrapeMetrics(_ gw: TestGateway) async throws -> MetricsScrape {
    let answer = try await httpGet(gw.httpBase + "/metrics", headers: [("Authorization", "Bearer \(gw.token)")])
    guard answer.status == 200 else { throw MetricsScrapeFailed(status: answer.status, body: answer.body) }
    return try MetricsScrape(text: answer.body)
}

struct MetricsScrapeFailed: Error, CustomStringConvertible {
    var status: Int
    var body: String
    var description: String { "GET /metrics answered \(status): \(body)" }
}

/// Scrapes until `condition` holds (state the gateway reaches asynchronously, such as a closed
/// socket leaving the registry), failing with `what` after `timeout`.
func scrapeMetrics(
    _ gw: TestGateway, until what: String, timeout: Duration = .seconds(10), _ condition: @escaping @Sendable (MetricsScrape) -> Bool
) async throws -> MetricsScrape {
    try await withDeadline(timeout, what) {
        while true {
            let scrape = try await scrapeMetrics(gw)
            if condition(scrape) { return scrape }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// `promtool` (Debian package `prometheus`), run with `arguments` and optionally a file as stdin.
enum Promtool {
    struct Finished: Sendable {
        var status: Int32
        var output: String
    }

    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "promtool not found on PATH: install it (Debian: apt-get install -y prometheus); .ci/run installs it in CI"
        }
    }

    static var path: String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"]
        return directories.map { ($0 as NSString).appendingPathComponent("promtool") }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The package root (for `deploy/monitoring`).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func run(_ arguments: [String], stdin: String? = nil, timeout: Duration = .seconds(30)) async throws -> Finished {
        guard let path else { throw Missing() }
        let scratch = (NSTemporaryDirectory() as NSString).appendingPathComponent("clawgate-promtool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let inputPath = (scratch as NSString).appendingPathComponent("stdin")
        let outputPath = (scratch as NSString).appendingPathComponent("output")
        try Data((stdin ?? "").utf8).write(to: URL(fileURLWithPath: inputPath))
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: inputPath))
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        defer {
            try? input.close()
            try? output.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = packageRoot
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return Finished(status: process.terminationStatus, output: text)
    }
}
