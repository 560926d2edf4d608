import ClawgateProtocol
import ClawgateUpstream
import Foundation
import Testing

/// `clawgate agent`, `clawgate sessions` and `clawgate models list` run as the real executable
/// against a gateway process whose model provider is a local `UpstreamServer` (which answers
/// "echo: <last user message>").
@Suite("clawgate agent CLI")
struct AgentCLITests {
    /// A gateway process over `stateDir` (config already written there), stopped afterwards
    /// even when the body fails; `body` gets the environment the CLI needs to reach it.
    static func withGateway(stateDir: String, _ body: ([String: String]) async throws -> Void) async throws {
        let environment = CLIProcessTests.environment(stateDir: stateDir)
        let gateway = try await CLIProcessTests.RunningGateway(environment: environment)
        var client = environment
        client["OPENCLAW_GATEWAY_PORT"] = String(gateway.port)
        do {
            try await body(client)
        } catch {
            _ = await gateway.stop()
            throw error
        }
        #expect(await gateway.stop() == 0)
    }

    static func run(_ arguments: [String], _ environment: [String: String]) async throws -> CLIProcessTests.Finished {
        try await CLIProcessTests.run(arguments, environment: environment, timeout: .seconds(60))
    }

    static func json(_ finished: CLIProcessTests.Finished) throws -> JSONValue {
        try JSONCoding.decode(JSONValue.self, from: Data(finished.stdout.utf8))
    }

    @Test("agent streams the reply, --json summarizes it, sessions and models list show the result")
    func agentRoundTrip() async throws {
        try await UpstreamServer.with { upstream in
            let dir = try CLIProcessTests.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let config = """
                {
                  models: { providers: { local: { baseUrl: "\(upstream.openAIBaseURL)", api: "openai-completions", models: [{ id: "m1", contextWindow: 32000 }] } } },
                  agents: { defaults: { model: "local/m1" } },
                }
                """
            try config.write(toFile: dir + "/clawgate.json", atomically: true, encoding: .utf8)
            try await Self.withGateway(stateDir: dir) { environment in
                // Streamed: the reply text, then a newline, exit 0.
                let streamed = try await Self.run(["agent", "--message", "hello there"], environment)
                #expect(streamed.status == 0, "stderr: \(streamed.stderr)")
                #expect(streamed.stdout == "echo: hello there\n")

                // --json: one object at the end.
                let summarized = try await Self.run(["agent", "-m", "second turn", "--agent", "main", "--timeout", "30", "--json"], environment)
                #expect(summarized.status == 0, "stderr: \(summarized.stderr)")
                let reply = try Self.json(summarized)
                #expect(reply["status"]?.stringValue == "ok")
                #expect(reply["text"]?.stringValue == "echo: second turn")
                #expect(reply["runId"]?.stringValue?.isEmpty == false)
                #expect((reply["usage"]?["totalTokens"]?.intValue ?? 0) > 0)

                // --session picks the session itself.
                let side = try await Self.run(["agent", "-m", "aside", "--session", "agent:main:side", "--json"], environment)
                #expect(side.status == 0, "stderr: \(side.stderr)")
                #expect(try Self.json(side)["text"]?.stringValue == "echo: aside")

                // The first two turns went to agent:main:main, which now counts tokens.
                let listed = try await Self.run(["sessions", "--json"], environment)
                #expect(listed.status == 0, "stderr: \(listed.stderr)")
                let sessions = try Self.json(listed)["sessions"]?.arrayValue ?? []
                let main = try #require(sessions.first { $0["key"]?.stringValue == "agent:main:main" }, "sessions: \(listed.stdout)")
                #expect((main["totalTokens"]?.intValue ?? 0) > 0)
                #expect(sessions.contains { $0["key"]?.stringValue == "agent:main:side" })

                let table = try await Self.run(["sessions", "--agent", "main", "--limit", "5"], environment)
                #expect(table.status == 0, "stderr: \(table.stderr)")
                #expect(table.stdout.contains("KEY"))
                #expect(table.stdout.contains("agent:main:main"))
                #expect(table.stdout.contains("local/m1"))

                let models = try await Self.run(["models", "list"], environment)
                #expect(models.status == 0, "stderr: \(models.stderr)")
                #expect(models.stdout.contains("PROVIDER/MODEL"))
                #expect(models.stdout.contains("local/m1"))
                #expect(models.stdout.contains("32000"))
                let modelsJSON = try Self.json(try await Self.run(["models", "list", "--json"], environment))
                #expect(modelsJSON["models"]?.arrayValue?.first?["provider"]?.stringValue == "local")

                // A gateway error (unknown agent) is printed and fails the command.
                let unknown = try await Self.run(["agent", "--message", "hi", "--agent", "nobody"], environment)
                #expect(unknown.status != 0)
                #expect(unknown.stderr.contains("clawgate:"), "stderr: \(unknown.stderr)")
                #expect(unknown.stdout.isEmpty)
            }
        }
    }

    @Test("a reply streamed in many chunks arrives whole; --timeout makes the gateway stop the run")
    func streamingAndTimeout() async throws {
        try await UpstreamServer.with { upstream in
            let dir = try CLIProcessTests.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let config = """
                {
                  models: { providers: { local: { baseUrl: "\(upstream.openAIBaseURL)", api: "openai-completions", models: [{ id: "m1" }, { id: "m2" }] } } },
                  agents: { defaults: { model: "local/m1" }, list: [{ id: "main", default: true }, { id: "scripted", model: "local/m2" }] },
                }
                """
            try config.write(toFile: dir + "/clawgate.json", atomically: true, encoding: .utf8)
            try await Self.withGateway(stateDir: dir) { environment in
                upstream.script(model: "m2", [.slow("one two three four five", chunkDelayMs: 50)])
                let streamed = try await Self.run(["agent", "--agent", "scripted", "-m", "count"], environment)
                #expect(streamed.status == 0, "stderr: \(streamed.stderr)")
                #expect(streamed.stdout == "one two three four five\n")

                upstream.script(model: "m2", [.hangAfterFirstChunk])
                let started = ContinuousClock.now
                let stuck = try await Self.run(["agent", "--agent", "scripted", "-m", "wait", "--timeout", "1"], environment)
                #expect(stuck.status != 0)
                #expect(ContinuousClock.now - started < .seconds(15))
                #expect(stuck.stderr.contains("timeout"), "stderr: \(stuck.stderr)")
                #expect(stuck.stdout.hasPrefix("partial"), "stdout: \(stuck.stdout)")
                #expect(stuck.stdout.hasSuffix("\n"))
            }
        }
    }

    @Test("agent without a configured model fails, naming agents.defaults.model")
    func agentWithoutModel() async throws {
        let dir = try CLIProcessTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await Self.withGateway(stateDir: dir) { environment in
            let streamed = try await Self.run(["agent", "--message", "hello"], environment)
            #expect(streamed.status != 0)
            #expect(streamed.stderr.contains("agents.defaults.model"), "stderr: \(streamed.stderr)")

            let summarized = try await Self.run(["agent", "--message", "hello", "--json"], environment)
            #expect(summarized.status != 0)
            let reply = try Self.json(summarized)
            #expect(reply["status"]?.stringValue == "error")
            #expect(reply["error"]?["message"]?.stringValue?.contains("agents.defaults.model") == true)

            let models = try await Self.run(["models", "list"], environment)
            #expect(models.status == 0, "stderr: \(models.stderr)")
            #expect(models.stdout.contains("No models configured"))
        }
    }
}
