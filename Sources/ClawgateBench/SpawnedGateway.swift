import ClawgateProtocol
import Foundation
import Synchronization

/// Where the load goes: a gateway given by `--url`, or one this process started.
struct BenchTarget: Sendable {
    /// `ws://host:port`.
    var url: String
    var token: String?
    var spawned: Bool
    /// The gateway's process (spawned, or `--pid`): where its RSS is read.
    var pid: Int32? = nil
    /// The binary that was started (nil for `--url`).
    var binary: String? = nil

    /// `{url, spawned, binary?, pid?}` for the JSON reports.
    var json: JSONValue {
        var object: [String: JSONValue] = ["url": .string(url), "spawned": .bool(spawned)]
        if let binary { object["binary"] = .string(binary) }
        if let pid { object["pid"] = .int(Int(pid)) }
        return .object(object)
    }

    /// Host and port of `url` (for the lean NIO client).
    var hostAndPort: (host: String, port: Int)? {
        guard let components = URLComponents(string: url), let host = components.host, let port = components.port else { return nil }
        return (host, port)
    }

    /// The gateway's resident memory now, when its pid is known.
    func residentBytes() -> Int? {
        guard let pid else { return nil }
        return ProcessStats.residentBytes(pid: pid)
    }

    /// `http://host:port` (the ClawLink API shares the port).
    var httpBase: String {
        var base = url
        if base.hasPrefix("wss://") {
            base = "https://" + base.dropFirst(6)
        } else if base.hasPrefix("ws://") {
            base = "http://" + base.dropFirst(5)
        }
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }
}

/// A `clawgate` gateway run as a child process with a throw-away state directory, a random
/// token and any free port; stopped with SIGTERM.
final class SpawnedGateway: @unchecked Sendable {
    // @unchecked: `Process` is not Sendable; after `run()` it is only read (pid, isRunning) and
    // terminated, which Foundation allows from any thread.
    let process: Process
    let stateDir: URL
    /// Monotonic time just before the process was spawned.
    let launchedNs: UInt64
    private let launchTarget: BenchTarget
    /// The URL from the banner, once it was printed.
    private let listeningURL = Mutex<String?>(nil)

    private init(process: Process, stateDir: URL, target: BenchTarget, launchedNs: UInt64) {
        self.process = process
        self.stateDir = stateDir
        self.launchTarget = target
        self.launchedNs = launchedNs
    }

    /// Where to reach it (the URL from the banner once it listens).
    var target: BenchTarget {
        var target = launchTarget
        if let url = listeningURL.withLock({ $0 }) { target.url = url }
        return target
    }

    var pid: Int32 { process.processIdentifier }

    /// The `clawgate` binary in the same build folder as this executable.
    static func siblingBinary() -> String {
        benchFolder().appendingPathComponent("clawgate").path
    }

    static func benchFolder() -> URL {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? Bundle.main.executablePath ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: me).deletingLastPathComponent()
    }

    /// The gateway to start when none is named: a release build when there is one (a debug
    /// bench in `.build/<triple>/debug` looks in `.build/<triple>/release`), else the sibling.
    /// Benchmarks of a debug gateway measure the compiler's debug mode, not the gateway.
    static func defaultBinary() -> String {
        let folder = benchFolder()
        if folder.lastPathComponent == "debug" {
            let release = folder.deletingLastPathComponent().appendingPathComponent("release").appendingPathComponent("clawgate").path
            if FileManager.default.isExecutableFile(atPath: release) { return release }
        }
        return siblingBinary()
    }

    /// `config`: written to `<stateDir>/clawgate.json` (the gateway's config file) before it starts.
    /// Returns once the gateway printed its `listening on` banner.
    static func start(binary: String?, logLevel: String?, config: Data? = nil) async throws -> SpawnedGateway {
        let spawned = try launch(binary: binary, logLevel: logLevel, config: config, port: 0)
        try await spawned.waitUntilListening()
        return spawned
    }

    /// Spawns the gateway and returns at once. `port` 0 lets it pick one (the banner tells).
    static func launch(binary: String?, logLevel: String?, config: Data?, port: Int) throws -> SpawnedGateway {
        let path = binary ?? defaultBinary()
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw BenchError.setup(
                "no gateway binary at \(path): build it (swift build [-c release] --product clawgate), pass --gateway PATH, or pass --url"
            )
        }
        let stateDir = FileManager.default.temporaryDirectory.appendingPathComponent("clawgate-bench-\(shortRunId())")
        try FileManager.default.createDirectory(at: stateDir, withIntermediateDirectories: true)
        if let config { try config.write(to: stateDir.appendingPathComponent("clawgate.json")) }
        _ = FileManager.default.createFile(atPath: stateDir.appendingPathComponent("gateway.stdout").path, contents: nil)
        _ = FileManager.default.createFile(atPath: stateDir.appendingPathComponent("gateway.stderr").path, contents: nil)
        let token = shortRunId() + shortRunId() + shortRunId() + shortRunId()

        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        var arguments = ["gateway", "run", "--port", String(port)]
        if let logLevel { arguments += ["--log-level", logLevel] }
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        for key in ["OPENCLAW_CONFIG_PATH", "OPENCLAW_GATEWAY_PORT", "OPENCLAW_GATEWAY_PASSWORD"] {
            environment.removeValue(forKey: key)
        }
        environment["OPENCLAW_STATE_DIR"] = stateDir.path
        environment["OPENCLAW_GATEWAY_TOKEN"] = token
        process.environment = environment
        // Files rather than pipes: nobody has to keep draining them during the run.
        process.standardOutput = FileHandle(forWritingAtPath: stateDir.appendingPathComponent("gateway.stdout").path)
        process.standardError = FileHandle(forWritingAtPath: stateDir.appendingPathComponent("gateway.stderr").path)
        process.standardInput = FileHandle.nullDevice
        let launchedNs = MonotonicClock.nowNs()
        try process.run()
        let url = port == 0 ? "" : "ws://127.0.0.1:\(port)"
        return SpawnedGateway(
            process: process, stateDir: stateDir,
            target: BenchTarget(url: url, token: token, spawned: true, pid: process.processIdentifier, binary: path),
            launchedNs: launchedNs
        )
    }

    var stdoutPath: String { stateDir.appendingPathComponent("gateway.stdout").path }
    var stderrPath: String { stateDir.appendingPathComponent("gateway.stderr").path }

    /// The gateway's stderr (its log), for error messages.
    func stderrTail(_ limit: Int = 2000) -> String {
        String(((try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "").suffix(limit))
    }

    /// Waits (at most 30 s) for the `listening on ws://…` banner; stops the gateway and throws
    /// when it exits or never prints it.
    func waitUntilListening() async throws {
        let startedAt = Date()
        while Date().timeIntervalSince(startedAt) < 30 {
            let banner = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
            if let port = Self.parsePort(banner) {
                listeningURL.withLock { $0 = "ws://127.0.0.1:\(port)" }
                return
            }
            if !process.isRunning {
                let errors = stderrTail()
                await stop()
                throw BenchError.setup("the gateway exited (status \(process.terminationStatus)) before listening: \(errors)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        await stop()
        throw BenchError.setup("the gateway printed no \"listening on ws://…\" banner within 30 s")
    }

    /// The port from the banner line `Clawgate x listening on ws://127.0.0.1:PORT …`.
    static func parsePort(_ banner: String) -> Int? {
        guard let range = banner.range(of: "listening on ws://") else { return nil }
        let rest = banner[range.upperBound...]
        let hostPort = rest.prefix { !$0.isWhitespace && $0 != "/" }
        guard let colon = hostPort.lastIndex(of: ":") else { return nil }
        return Int(hostPort[hostPort.index(after: colon)...])
    }

    /// SIGTERM, then SIGKILL if it has not exited within 10 s; removes the state directory.
    func stop() async {
        if process.isRunning {
            process.terminate()
            let askedAt = Date()
            while process.isRunning && Date().timeIntervalSince(askedAt) < 10 {
                try? await Task.sleep(for: .milliseconds(20))
            }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        try? FileManager.default.removeItem(at: stateDir)
    }
}
