import ClawgateModels
import ClawgateUpstream
import Foundation
import Synchronization
import Testing

@testable import ClawgateGateway

/// The official `openai` Python package, unmodified, against the gateway's OpenAI-compatible
/// `/v1` API (models, chat completions, responses, embeddings, auth and not-found errors):
/// `scripts/openai-client-check.sh` installs it into a venv under `.build` and runs
/// `scripts/openai-client-check.py` against a real gateway backed by the local upstream.
///
/// Not skipped when python3/pip are missing: the test then fails with the reason (CI installs them).
@Suite("OpenAIPythonClient")
struct OpenAIPythonClientTests {
    /// The package root (the directory holding Package.swift), from this file's path.
    static let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test("the openai Python package passes every check against the gateway")
    func officialClient() async throws {
        let script = Self.packageRoot.appendingPathComponent("scripts/openai-client-check.sh").path
        #expect(FileManager.default.isExecutableFile(atPath: script), "missing or not executable: \(script)")
        try await UpstreamServer.with { upstream in
            let upstreamURL = upstream.openAIBaseURL
            try await withGateway(
                { config, _ in
                    config.agents.providers.append(
                        AgentsConfig.ProviderEntry(
                            id: "local", baseUrl: upstreamURL, apiKey: nil, api: .openAICompletions, headers: [:],
                            models: [ModelDefinition(id: "m1")]
                        )
                    )
                    config.agents.defaults.primaryModel = "local/m1"
                    config.agents.defaults.embeddingModel = "local/m1"
                    config.agents.chatCompletionsEnabled = true
                    config.agents.responsesEnabled = true
                },
                timeout: .seconds(300)
            ) { gateway in
                var environment = ProcessInfo.processInfo.environment
                environment["CLAWGATE_BASE_URL"] = gateway.httpBase + "/v1"
                environment["CLAWGATE_TOKEN"] = gateway.token
                // Proxies from the environment must not intercept loopback requests.
                environment["NO_PROXY"] = "127.0.0.1,localhost"
                environment["no_proxy"] = "127.0.0.1,localhost"
                environment["PYTHONUNBUFFERED"] = "1"
                let result = try await ScriptRun.run(
                    executable: "/bin/bash", arguments: [script], environment: environment, directory: Self.packageRoot
                )
                if ProcessInfo.processInfo.environment["CLAWGATE_TEST_LOG"] != nil { print(result.output) }
                #expect(
                    result.status == 0,
                    """
                    scripts/openai-client-check.sh exited with \(result.reason) \(result.status) \
                    (needs python3 with venv and pip, and network access to PyPI on first run). Output:
                    \(result.output)
                    """
                )
            }
        }
    }
}

/// A subprocess whose combined stdout/stderr goes to a temp file (no pipe to drain), awaited
/// through `terminationHandler` so no cooperative thread blocks; cancelling the awaiting task
/// terminates the process.
enum ScriptRun {
    struct Result: Sendable {
        var status: Int32
        var reason: String
        var output: String
    }

    static func run(executable: String, arguments: [String], environment: [String: String], directory: URL) async throws -> Result {
        let outputPath = (NSTemporaryDirectory() as NSString).appendingPathComponent("clawgate-script-\(UUID().uuidString).log")
        guard FileManager.default.createFile(atPath: outputPath, contents: nil) else {
            throw ScriptRunError(message: "could not create \(outputPath)")
        }
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        defer { try? output.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = directory
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        let box = ProcessBox(process)

        let (status, reason): (Int32, String) = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(Int32, String), any Error>) in
                process.terminationHandler = { finished in
                    let reason = finished.terminationReason == .exit ? "exit code" : "signal"
                    continuation.resume(returning: (finished.terminationStatus, reason))
                }
                do {
                    try box.start()
                } catch {
                    process.terminationHandler = nil
                    continuation.resume(throwing: ScriptRunError(message: "could not start \(executable): \(error)"))
                }
            }
        } onCancel: {
            box.terminate()
        }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "<output unreadable>"
        return Result(status: status, reason: reason, output: text)
    }

    struct ScriptRunError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// Lets the cancellation handler reach the process (Process is not Sendable); a cancellation
    /// that comes before the start terminates the process as soon as it has started.
    private final class ProcessBox: @unchecked Sendable {
        private let process: Process
        private let cancelled = Mutex(false)
        init(_ process: Process) { self.process = process }

        func start() throws {
            try cancelled.withLock { cancelled in
                try process.run()
                if cancelled { process.terminate() }
            }
        }

        func terminate() {
            cancelled.withLock { cancelled in
                cancelled = true
                if process.isRunning { process.terminate() }
            }
        }
    }
}
