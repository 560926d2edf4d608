import ArgumentParser
import ClawgateProtocol
import Foundation

/// `clawgate-bench startup`: process spawn → `GET /ready` 200, and the idle RSS afterwards.
struct StartupBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "startup",
        abstract: "Process start to /ready 200 (polled every millisecond), and idle RSS after 10 s.",
        discussion: """
            Each run spawns the gateway on a free port with an empty state directory and no config file (the token \
            comes from the environment) and polls GET /ready over a fresh loopback connection every --poll-ms until \
            it answers 200. "listening" is the first answer of any status. The last \
            run then stays idle for --idle seconds and the gateway's VmRSS is read.
            """
    )

    @OptionGroup var target: TargetOptions

    @Option(help: "Gateway starts to time (default 5; --smoke: 2).")
    var runs: Int?

    @Option(help: "Seconds the last gateway stays idle before its RSS is read (default 10; --smoke: 1).")
    var idle: Double?

    @Option(name: .customLong("poll-ms"), help: "Milliseconds between /ready polls (default 1).")
    var pollMs: Double = 1

    func validate() throws {
        if target.url != nil { throw ValidationError("startup starts its own gateways: --url does not apply") }
        if let runs, !(1...1000).contains(runs) { throw ValidationError("--runs must be 1 to 1000") }
        if let idle, idle < 0 { throw ValidationError("--idle must be >= 0") }
        if !(pollMs > 0 && pollMs <= 1000) { throw ValidationError("--poll-ms must be > 0 and <= 1000") }
    }

    struct Run: Sendable {
        var listeningMs: Double?
        var readyMs: Double
        var polls: Int
    }

    func run() async throws {
        let runCount = runs ?? (target.smoke ? 2 : 5)
        let idleSeconds = idle ?? (target.smoke ? 1 : 10)
        var measured: [Run] = []
        var idleRss: Int?
        var binary = ""
        for index in 0..<runCount {
            let port = try ReadyProbe.freePort()
            let spawned = try SpawnedGateway.launch(binary: target.gateway, logLevel: target.gatewayLogLevel, config: nil, port: port)
            binary = spawned.target.binary ?? ""
            let outcome: Result<Run, any Error>
            do {
                let run = try await pollUntilReady(spawned, port: port)
                if index == runCount - 1 {
                    try await Task.sleep(for: .seconds(idleSeconds))
                    idleRss = spawned.target.residentBytes()
                }
                outcome = .success(run)
            } catch {
                outcome = .failure(error)
            }
            await spawned.stop()
            let run = try outcome.get()
            note(String(format: "startup run %d: listening %@, ready %.1f ms (%d polls)", index + 1, run.listeningMs.map { String(format: "%.1f ms", $0) } ?? "-", run.readyMs, run.polls))
            measured.append(run)
        }
        let ready = measured.map(\.readyMs)
        let listening = measured.compactMap(\.listeningMs)
        func rounded(_ value: Double) -> JSONValue { .double((value * 1000).rounded() / 1000) }
        let idleMB = idleRss.map(ProcessStats.megabytes)
        target.summary(
            "startup: ready p50 " + String(format: "%.1f ms (min %.1f, max %.1f) over %d starts", Statistics.median(ready), ready.min() ?? 0, ready.max() ?? 0, runCount)
                + (listening.isEmpty ? "" : String(format: ", listening p50 %.1f ms", Statistics.median(listening)))
                + "; idle RSS after \(idleSeconds) s: " + (idleMB.map { String(format: "%.1f MB", $0) } ?? "n/a")
        )
        try target.printJSON([
            "scenario": "startup", "smoke": .bool(target.smoke),
            "gateway": ["binary": .string(binary), "spawned": true],
            "settings": ["runs": .int(runCount), "idleSeconds": .double(idleSeconds), "pollMs": .double(pollMs)],
            "results": [
                [
                    "readyMs": [
                        "p50": rounded(Statistics.median(ready)), "min": rounded(ready.min() ?? 0), "max": rounded(ready.max() ?? 0),
                    ],
                    "listeningMs": listening.isEmpty ? .null : ["p50": rounded(Statistics.median(listening)), "min": rounded(listening.min() ?? 0)],
                    "runs": .array(measured.map { run in
                        ["readyMs": rounded(run.readyMs), "listeningMs": run.listeningMs.map(rounded) ?? .null, "polls": .int(run.polls)]
                    }),
                    "idleRssMB": idleMB.map(rounded) ?? .null, "idleSeconds": .double(idleSeconds),
                ]
            ],
        ])
    }

    private func pollUntilReady(_ spawned: SpawnedGateway, port: Int) async throws -> Run {
        var listeningNs: UInt64?
        var polls = 0
        let limitNs = spawned.launchedNs + 30_000_000_000
        while MonotonicClock.nowNs() < limitNs {
            polls += 1
            let status = ReadyProbe.status(port: port, path: "/ready")
            let nowNs = MonotonicClock.nowNs()
            if status != nil && listeningNs == nil { listeningNs = nowNs }
            if status == 200 {
                return Run(
                    listeningMs: listeningNs.map { Double($0 - spawned.launchedNs) / 1e6 }, readyMs: Double(nowNs - spawned.launchedNs) / 1e6,
                    polls: polls
                )
            }
            if !spawned.process.isRunning {
                throw BenchError.setup("the gateway exited (status \(spawned.process.terminationStatus)) before /ready: \(spawned.stderrTail())")
            }
            try await Task.sleep(for: .microseconds(Int(pollMs * 1000)))
        }
        throw BenchError.setup("GET /ready on port \(port) did not answer 200 within 30 s: \(spawned.stderrTail())")
    }
}
