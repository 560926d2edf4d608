import Foundation

/// Where the load goes: a gateway given by `--url`, or one this process started.
struct BenchTarget: Sendable {
    /// `ws://host:port`.
    var url: String
    var token: String?
    var spawned: Bool

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
    let process: Process
    let stateDir: URL
    let target: BenchTarget

    private init(process: Process, stateDir: URL, target: BenchTarget) {
        self.process = process
        self.stateDir = stateDir
        self.target = target
    }

    /// The `clawgate` binary in the same build folder as this executable.
    static func siblingBinary() -> String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? Bundle.main.executablePath ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("clawgate").path
    }

    /// `config`: written to `<stateDir>/clawgate.json` (the gateway's config file) before it starts.
    static func start(binary: String?, logLevel: String?, config: Data? = nil) async throws -> SpawnedGateway {
        let path = binary ?? siblingBinary()
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw BenchError.setup(
                "no gateway binary at \(path): build it (swift build [-c release] --product clawgate), pass --gateway PATH, or pass --url"
            )
        }
        let stateDir = FileManager.default.temporaryDirectory.appendingPathComponent("clawgate-bench-\(shortRunId())")
        try FileManager.default.createDirectory(at: stateDir, withIntermediateDirectories: true)
        if let config { try config.write(to: stateDir.appendingPathComponent("clawgate.json")) }
        let stdoutPath = stateDir.appendingPathComponent("gateway.stdout").path
        let stderrPath = stateDir.appendingPathComponent("gateway.stderr").path
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let token = shortRunId() + shortRunId() + shortRunId() + shortRunId()

        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        var arguments = ["gateway", "run", "--port", "0"]
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
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        process.standardInput = FileHandle.nullDevice
        try process.run()

        let gateway = { (url: String) in
            SpawnedGateway(process: process, stateDir: stateDir, target: BenchTarget(url: url, token: token, spawned: true))
        }
        let startedAt = Date()
        while Date().timeIntervalSince(startedAt) < 30 {
            let banner = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
            if let port = parsePort(banner) {
                return gateway("ws://127.0.0.1:\(port)")
            }
            if !process.isRunning {
                let errors = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
                try? FileManager.default.removeItem(at: stateDir)
                throw BenchError.setup("the gateway exited (status \(process.terminationStatus)) before listening: \(errors.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let spawned = gateway("")
        await spawned.stop()
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
