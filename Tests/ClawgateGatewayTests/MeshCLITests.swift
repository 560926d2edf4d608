import ClawgateProtocol
import Foundation
import Synchronization
import Testing

/// `clawgate mesh …` run as the real executable: two CLI identities (separate state dirs)
/// against one gateway process, through a whole delegation and the error paths.
@Suite("clawgate mesh CLI")
struct MeshCLITests {
    static let token = "mesh-cli-test-token"

    /// Everything the CLI printed, to prove the credentials never show up.
    final class Transcript: Sendable {
        private let text = Mutex("")
        func append(_ finished: CLIProcessTests.Finished) { text.withLock { $0 += finished.stdout + "\n" + finished.stderr + "\n" } }
        var all: String { text.withLock { $0 } }
    }

    /// One CLI identity: its own state dir (device identity and mesh-agent.json).
    struct CLIAgent: Sendable {
        let dir: String
        let port: Int
        let transcript: Transcript

        var identityFile: String { dir + "/identity/mesh-agent.json" }

        func run(_ arguments: [String]) async throws -> CLIProcessTests.Finished {
            let environment = CLIProcessTests.environment(
                stateDir: dir, extra: ["OPENCLAW_GATEWAY_TOKEN": MeshCLITests.token, "OPENCLAW_GATEWAY_PORT": String(port)]
            )
            let finished = try await CLIProcessTests.run(["mesh"] + arguments, environment: environment, timeout: .seconds(40))
            transcript.append(finished)
            return finished
        }

        /// Runs with `--json`, expects success and decodes the output.
        func json(_ arguments: [String]) async throws -> JSONValue {
            let finished = try await run(arguments + ["--json"])
            try #require(finished.status == 0, "mesh \(arguments.joined(separator: " ")): \(finished.stderr)")
            return try JSONCoding.decode(JSONValue.self, from: Data(finished.stdout.utf8))
        }

        /// Runs, expects success and returns stdout.
        func text(_ arguments: [String]) async throws -> String {
            let finished = try await run(arguments)
            try #require(finished.status == 0, "mesh \(arguments.joined(separator: " ")): \(finished.stderr)")
            return finished.stdout
        }

        func storedIdentity() throws -> JSONValue {
            try JSONCoding.decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: identityFile)))
        }
    }

    /// A gateway process with a known token, stopped afterwards even when the body fails.
    static func withMeshGateway(_ body: (Int) async throws -> Void) async throws {
        let dir = try CLIProcessTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let gateway = try await CLIProcessTests.RunningGateway(
            environment: CLIProcessTests.environment(stateDir: dir, extra: ["OPENCLAW_GATEWAY_TOKEN": token])
        )
        do {
            try await body(gateway.port)
        } catch {
            _ = await gateway.stop()
            throw error
        }
        #expect(await gateway.stop() == 0)
    }

    static func agent(port: Int, transcript: Transcript = Transcript()) throws -> CLIAgent {
        CLIAgent(dir: try CLIProcessTests.temporaryDirectory(), port: port, transcript: transcript)
    }

    static func mode(_ path: String) throws -> Int? {
        try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    }

    @Test("a mesh command before `register` says how to register, naming the identity file")
    func commandBeforeRegister() async throws {
        // Port 1: nothing listens there, so an attempt to connect would fail differently.
        let cli = try Self.agent(port: 1)
        defer { try? FileManager.default.removeItem(atPath: cli.dir) }
        for arguments in [["poll"], ["tasks", "get", "t1"], ["accept", "t1"], ["delegate", "--to", "x", "--type", "y"]] {
            let result = try await cli.run(arguments)
            #expect(result.status == 1)
            #expect(
                result.stderr == "clawgate: no mesh agent registered in \(cli.identityFile): run `clawgate mesh register` first\n",
                "mesh \(arguments.joined(separator: " "))"
            )
        }
    }

    @Test("bad input is refused before connecting")
    func badInputBeforeConnecting() async throws {
        let cli = try Self.agent(port: 1)
        defer { try? FileManager.default.removeItem(atPath: cli.dir) }
        let cases: [([String], String)] = [
            (["delegate", "--type", "review"], "say who should do the task: --to AGENT or --caps a,b"),
            (["delegate", "--to", "a", "--caps", "code", "--type", "review"], "give either --to or --caps, not both"),
            (["delegate", "--to", "a", "--type", "review", "--context", "{bad"], "--context is not valid JSON"),
            (["delegate", "--to", "a", "--type", "review", "--priority", "asap"], "--priority must be low, normal, high or urgent"),
            (["complete", "t1", "--result", "not json"], "--result is not valid JSON"),
            (["update", "t1", "--percent", "150"], "--percent must be between 0 and 100"),
            (["discover", "--status", "gone"], "--status must be online, stale or offline"),
            (["ack"], "give at least one delivery id"),
        ]
        for (arguments, message) in cases {
            let result = try await cli.run(arguments)
            #expect(result.status != 0, "mesh \(arguments.joined(separator: " "))")
            #expect(result.stderr.contains(message), "mesh \(arguments.joined(separator: " ")): \(result.stderr)")
            #expect(!result.stderr.contains("unreachable"))
        }
    }

    @Test("two CLI agents delegate, work on and finish a task through the gateway")
    func delegationRoundTrip() async throws {
        try await Self.withMeshGateway { port in
            let transcript = Transcript()
            let a = try Self.agent(port: port, transcript: transcript)
            let b = try Self.agent(port: port, transcript: transcript)
            defer {
                try? FileManager.default.removeItem(atPath: a.dir)
                try? FileManager.default.removeItem(atPath: b.dir)
            }

            // Registration: the id is printed, the credential only stored (0600 in a 0700 dir).
            let registered = try await a.json(["register", "--name", "alice", "--caps", "code"])
            #expect(registered["created"] == true)
            let aId = try #require(registered["agent"]?["agentId"]?.stringValue)
            #expect(try Self.mode(a.identityFile) == 0o600)
            #expect(try Self.mode(a.dir + "/identity") == 0o700)
            let aIdentity = try a.storedIdentity()
            #expect(aIdentity["agentId"] == .string(aId))
            #expect(aIdentity["url"] == .string("ws://127.0.0.1:\(port)"))
            #expect(aIdentity["namespace"] == "default")
            let aCredential = try #require(aIdentity["credential"]?.stringValue)

            #expect(try await b.text(["register", "--name", "bob"]).contains("registered mesh agent"))
            let bId = try #require(try b.storedIdentity()["agentId"]?.stringValue)
            let bCredential = try #require(try b.storedIdentity()["credential"]?.stringValue)

            // Registering again keeps the agent (and credential) and updates its capabilities.
            let again = try await a.json(["register", "--caps", "code,review"])
            #expect(again["created"] == false)
            #expect(again["agent"]?["agentId"] == .string(aId))
            #expect(again["agent"]?["capabilities"] == ["code", "review"])
            #expect(again["agent"]?["name"] == "alice")
            #expect(try a.storedIdentity()["credential"] == .string(aCredential))

            let found = try await b.json(["discover", "--caps", "code"])
            #expect(found["agents"]?.arrayValue?.compactMap { $0["agentId"]?.stringValue } == [aId])
            #expect(try await b.text(["discover"]).contains("alice"))

            // B delegates to A with a context; A polls and sees the offer.
            let delegated = try await b.json([
                "delegate", "--to", aId, "--type", "review", "--description", "review main", "--context", #"{"file":"main.swift"}"#,
            ])
            let taskId = try #require(delegated["taskId"]?.stringValue)
            #expect(delegated["state"] == "offered")
            let offers = try await a.json(["poll"])["deliveries"]?.arrayValue ?? []
            let offer = try #require(offers.first { $0["taskId"] == .string(taskId) })
            #expect(offer["kind"] == "task_offer")
            #expect(offer["payload"]?["context"]?["file"] == "main.swift")
            #expect(offer["payload"]?["from"] == .string(bId))

            // A works on it.
            #expect(try await a.text(["accept", taskId]).contains("accepted task \(taskId): now accepted"))
            #expect(try await a.text(["update", taskId, "--percent", "50", "--message", "half"]).contains("now in_progress"))
            #expect(try await a.text(["complete", taskId, "--result", #"{"summary":"lgtm"}"#]).contains("now completed"))

            // B polls, sees the result and acknowledges it.
            let results = try await b.json(["poll"])["deliveries"]?.arrayValue ?? []
            let result = try #require(results.first { $0["taskId"] == .string(taskId) })
            #expect(result["kind"] == "task_result")
            #expect(result["payload"]?["result"]?["summary"] == "lgtm")
            let deliveryId = try #require(result["deliveryId"]?.stringValue)
            #expect(try await b.text(["ack", deliveryId]).contains("acknowledged 1 delivery"))

            // The task record and the event log.
            let task = try await b.json(["tasks", "get", taskId])
            #expect(task["state"] == "completed")
            #expect(task["progress"]?["percentage"] == 50)
            let shown = try await b.text(["task", taskId])
            #expect(shown.contains("state:       completed"))
            #expect(shown.contains(#"{"summary":"lgtm"}"#))
            #expect(try await b.text(["tasks", "--state", "completed"]).contains(taskId))
            #expect(try await b.json(["tasks", "--state", "failed"])["count"] == 0)
            let events = try await b.json(["events"])["events"]?.arrayValue ?? []
            let taskEvents = events.filter { $0["payload"]?["taskId"] == .string(taskId) }.compactMap { $0["type"]?.stringValue }
            #expect(taskEvents == ["task_created", "task_offered", "task_accepted", "task_updated", "task_completed"])
            #expect(try await b.text(["events", "--since", "1"]).contains("task_completed"))

            // RPC errors name the method and the gateway's answer.
            let unknown = try await a.run(["accept", "no-such-task"])
            #expect(unknown.status == 1)
            #expect(unknown.stderr.contains("clawgate: mesh.accept failed: INVALID_REQUEST: unknown task no-such-task"))
            let twice = try await b.run(["ack", deliveryId])
            #expect(twice.status == 1)
            #expect(twice.stderr.contains("mesh.ack failed"))

            // `delegate --wait`: routed by capability (A's survived all those commands), the
            // result is printed and acknowledged.
            async let waiting = b.run(["delegate", "--caps", "review", "--type", "check", "--wait", "20", "--json"])
            var offered: String?
            let deadline = ContinuousClock.now + .seconds(15)
            while offered == nil && ContinuousClock.now < deadline {
                let polled = try await a.json(["poll"])["deliveries"]?.arrayValue ?? []
                offered = polled.first { $0["kind"] == "task_offer" && $0["payload"]?["type"] == "check" }?["taskId"]?.stringValue
                if offered == nil { try await Task.sleep(for: .milliseconds(200)) }
            }
            let checkId = try #require(offered)
            _ = try await a.text(["accept", checkId])
            _ = try await a.text(["complete", checkId, "--result", #"{"n":42}"#])
            let waited = try await waiting
            #expect(waited.status == 0, "\(waited.stderr)")
            let finished = try JSONCoding.decode(JSONValue.self, from: Data(waited.stdout.utf8))
            #expect(finished["taskId"] == .string(checkId))
            #expect(finished["state"] == "completed")
            #expect(finished["result"]?["n"] == 42)

            // A wait that runs out says so and exits non-zero; the task stays delegated.
            let timedOut = try await b.run(["delegate", "--to", aId, "--type", "slow", "--wait", "0.5"])
            #expect(timedOut.status == 1)
            #expect(timedOut.stderr.contains("no result for task"))
            #expect(timedOut.stdout.contains("delegated task"))

            // Neither credential was ever printed.
            #expect(!transcript.all.contains(aCredential))
            #expect(!transcript.all.contains(bCredential))
        }
    }
}
