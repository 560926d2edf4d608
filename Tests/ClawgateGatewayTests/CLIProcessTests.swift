import ClawgateClient
import ClawgateProtocol
import Foundation
import HummingbirdWSClient
import Logging
import NIOWebSocket
import Synchronization
import Testing

/// Runs the real `clawgate` executable as a child process: startup failures, exit codes,
/// `gateway status --require-rpc` and the SIGTERM shutdown sequence.
@Suite("clawgate process")
struct CLIProcessTests {
    static var binary: String {
        let candidates: [String?] = [
            ProcessInfo.processInfo.environment["CLAWGATE_BIN"],
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("clawgate").path,
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("clawgate").path,
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent(".build/debug/clawgate").path,
        ]
        return candidates.compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) } ?? "clawgate"
    }

    struct Finished {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the CLI to completion.
    static func run(_ arguments: [String], environment: [String: String], timeout: Duration = .seconds(20)) async throws -> Finished {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return Finished(
            status: process.terminationStatus,
            stdout: String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
            stderr: String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        )
    }

    /// A gateway process started with `--port 0`; the port is read from its banner.
    final class RunningGateway: @unchecked Sendable {
        let process = Process()
        let stdout = Pipe()
        var port = 0
        let environment: [String: String]

        init(arguments: [String] = [], port requested: Int = 0, environment: [String: String]) async throws {
            self.environment = environment
            process.executableURL = URL(fileURLWithPath: CLIProcessTests.binary)
            process.arguments = ["gateway", "run", "--port", String(requested)] + arguments
            process.environment = environment
            process.standardOutput = stdout
            // The log goes to a file in the state directory rather than a pipe nobody reads: a
            // gateway that logged more than a pipe holds (64 KiB) would block in its next write.
            let logPath = environment["OPENCLAW_STATE_DIR"].map { $0 + "/gateway-\(UUID().uuidString.prefix(8)).stderr" }
            if let logPath, FileManager.default.createFile(atPath: logPath, contents: nil),
                let file = FileHandle(forWritingAtPath: logPath)
            {
                process.standardError = file
            } else {
                process.standardError = FileHandle.nullDevice
            }
            try process.run()
            var buffer = ""
            let deadline = ContinuousClock.now.advanced(by: .seconds(15))
            while ContinuousClock.now < deadline {
                let chunk = stdout.fileHandleForReading.availableData
                if chunk.isEmpty { try await Task.sleep(for: .milliseconds(20)); continue }
                buffer += String(decoding: chunk, as: UTF8.self)
                if let range = buffer.range(of: #"listening on ws://127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                    port = Int(buffer[range].split(separator: ":").last ?? "") ?? 0
                    // Whatever it prints from now on is read and dropped, for the same reason.
                    stdout.fileHandleForReading.readabilityHandler = { handle in
                        if handle.availableData.isEmpty { handle.readabilityHandler = nil }
                    }
                    break
                }
            }
            if port == 0 {
                process.terminate()
                throw CancellationError()
            }
        }

        var url: String { "ws://127.0.0.1:\(port)" }

        func stop() async -> Int32 {
            if process.isRunning { kill(process.processIdentifier, SIGTERM) }
            let deadline = ContinuousClock.now.advanced(by: .seconds(10))
            while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    static func environment(stateDir: String, extra: [String: String] = [:]) -> [String: String] {
        var environment = ["OPENCLAW_STATE_DIR": stateDir, "HOME": stateDir, "PATH": "/usr/bin:/bin"]
        environment.merge(extra) { _, new in new }
        return environment
    }

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("clawgate-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("gateway status --require-rpc exits 0 when up and non-zero when down")
    func statusRequireRPC() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let environment = Self.environment(stateDir: dir)
        let gateway = try await RunningGateway(environment: environment)
        // Zero configuration: a token was generated and stored with owner-only permissions.
        let tokenFile = dir + "/credentials/gateway-token"
        let attributes = try FileManager.default.attributesOfItem(atPath: tokenFile)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        var clientEnvironment = environment
        clientEnvironment["OPENCLAW_GATEWAY_PORT"] = String(gateway.port)
        let up = try await Self.run(["gateway", "status", "--require-rpc"], environment: clientEnvironment)
        #expect(up.status == 0, "stderr: \(up.stderr)")
        #expect(up.stdout.contains("RPC probe: ok"))

        let call = try await Self.run(["gateway", "call", "health", "--json"], environment: clientEnvironment)
        #expect(call.status == 0)
        #expect(call.stdout.contains(#""ok":true"#))

        #expect(await gateway.stop() == 0)
        let down = try await Self.run(["gateway", "status", "--require-rpc"], environment: clientEnvironment)
        #expect(down.status != 0)
        #expect(down.stderr.contains("gateway unreachable at ws://127.0.0.1:\(gateway.port)"))
    }

    @Test("refuses a non-loopback bind without auth (exit 78)")
    func refusesLanWithoutAuth() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try await Self.run(
            ["gateway", "run", "--bind", "lan", "--auth", "none", "--port", "0"], environment: Self.environment(stateDir: dir)
        )
        #expect(result.status == 78)
        #expect(result.stderr.contains("Refusing to bind gateway to lan without auth"))
    }

    @Test("an invalid config names the key path and the file (exit 78)")
    func invalidConfig() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let configPath = dir + "/clawgate.json"
        try "{ gateway: { port: 18789, bindd: 'lan', }, // typo\n}".write(toFile: configPath, atomically: true, encoding: .utf8)
        let result = try await Self.run(["gateway", "run"], environment: Self.environment(stateDir: dir))
        #expect(result.status == 78)
        #expect(result.stderr.contains("\(configPath): gateway.bindd: unknown key"))
    }

    @Test("a second gateway on a taken port says another instance is listening")
    func portInUse() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let environment = Self.environment(stateDir: dir, extra: ["OPENCLAW_GATEWAY_TOKEN": "process-test-token"])
        let first = try await RunningGateway(environment: environment)
        let second = try await Self.run(["gateway", "run", "--port", String(first.port)], environment: environment)
        #expect(second.status != 0)
        #expect(second.stderr.contains("another gateway instance is already listening on ws://127.0.0.1:\(first.port)"))
        #expect(await first.stop() == 0)
    }

    @Test("SIGTERM broadcasts shutdown, then closes sockets with 1012")
    func shutdownSequence() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let environment = Self.environment(stateDir: dir, extra: ["OPENCLAW_GATEWAY_TOKEN": "process-test-token"])
        let gateway = try await RunningGateway(environment: environment)
        let pid = gateway.process.processIdentifier
        let seen = Mutex<[String]>([])
        let closeFrame = try await WebSocketClient.connect(url: gateway.url, logger: Logger(label: "test")) { inbound, outbound, _ in
            var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
            _ = try await messages.next()  // connect.challenge
            let connect = RequestFrame(
                id: "c1", method: "connect",
                params: try JSONCoding.value(
                    of: ConnectParams(
                        client: ClientInfo(id: "gateway-client", version: "1", platform: "linux", mode: "backend"),
                        scopes: [OperatorScope.read], auth: ConnectAuth(token: "process-test-token")
                    )
                )
            )
            try await outbound.write(.text(String(decoding: try JSONCoding.encode(connect), as: UTF8.self)))
            guard case .text(let hello) = try await messages.next() else { return }
            #expect(hello.contains("hello-ok"))
            kill(pid, SIGTERM)
            while let message = try await messages.next() {
                guard case .text(let text) = message,
                    case .success(.event(let event)) = GatewayFrame.parse(try JSONCoding.decode(JSONValue.self, from: Data(text.utf8)))
                else { continue }
                seen.withLock { $0.append(event.event) }
                if event.event == GatewayEvent.shutdown {
                    #expect(event.payload?["reason"]?.stringValue == "gateway stopping")
                }
            }
        }
        #expect(seen.withLock { $0.last } == GatewayEvent.shutdown)
        #expect(closeFrame.map { UInt16(webSocketErrorCode: $0.closeCode) } == GatewayCloseCode.serviceRestart)
        #expect(await gateway.stop() == 0)
    }
}

extension CLIProcessTests {
    @Test("an explicit gateway URL never receives the local token")
    func explicitURLGetsNoLocalSecrets() async throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let environment = Self.environment(stateDir: dir)
        let gateway = try await RunningGateway(environment: environment)
        defer { Task { _ = await gateway.stop() } }
        // Named explicitly: the CLI must not hand the local token to whatever is there.
        var explicit = environment
        explicit["OPENCLAW_GATEWAY_URL"] = gateway.url
        let result = try await Self.run(["gateway", "status"], environment: explicit)
        #expect(result.status != 0)
        #expect(result.stderr.contains("gateway token missing"))
        // Found through the local config/state: the generated token is used.
        var local = environment
        local["OPENCLAW_GATEWAY_PORT"] = String(gateway.port)
        #expect(try await Self.run(["gateway", "status"], environment: local).status == 0)
    }
}
