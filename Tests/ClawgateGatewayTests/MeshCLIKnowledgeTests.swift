import ClawgateProtocol
import Foundation
import Testing

/// `clawgate mesh respond|broadcast|broadcasts|files|state` run as the real executable: two CLI
/// identities against one gateway process (the helpers of `MeshCLITests`).
@Suite("clawgate mesh CLI: respond, knowledge, files, state")
struct MeshCLIKnowledgeTests {
    @Test("bad input to the new commands is refused before connecting")
    func badInputBeforeConnecting() async throws {
        // Port 1 and no identity: a command that got as far as connecting would fail differently.
        let cli = try MeshCLITests.agent(port: 1)
        defer { try? FileManager.default.removeItem(atPath: cli.dir) }
        let missing = cli.dir + "/no-such-file.txt"
        let cases: [([String], String)] = [
            (["respond", "t1", "--result", "not json"], "--result is not valid JSON"),
            (["respond", "t1", "--status", "failed"], "--status failed needs --error MSG"),
            (["respond", "t1", "--status", "done"], "--status must be completed or failed"),
            (["respond", "t1", "--error", "boom"], "--error goes with --status failed"),
            (["respond", "t1", "--status", "failed", "--error", "x", "--result", "{}"], "--result goes with --status completed"),
            (["broadcast"], "--content"),
            (["broadcast", "--content", ""], "--content must not be empty"),
            (["broadcasts", "--limit", "0"], "--limit must be at least 1"),
            (["files", "put", "k"], "give the content: --file PATH or --content TEXT"),
            (["files", "put", "k", "--file", missing, "--content", "x"], "give either --file or --content, not both"),
            (["files", "put", "k", "--file", missing], "cannot read --file \(missing): no such file"),
            (["files", "put", "k", "--file", cli.dir], "cannot read --file \(cli.dir): it is a directory"),
            (["files", "put", "k", "--content", "x", "--if-version=-1"], "--if-version must be >= 0"),
            (["files", "get", "k", "--output", cli.dir + "/missing/out.txt"], "directory \(cli.dir)/missing does not exist"),
            (["state", "set", "k", "--value", "{bad"], "--value is not valid JSON"),
            (["state", "set", "k", "--value", "1", "--policy", "sometimes"], "--policy must be last-write-wins, merge or reject"),
            (["state", "set", "k", "--value", "1", "--policy", "reject"], "--policy reject needs --if-version N"),
            (["state", "set", "k", "--value", "1", "--policy", "merge", "--if-version", "1"], "--if-version works only with --policy reject"),
        ]
        for (arguments, message) in cases {
            let result = try await cli.run(arguments)
            #expect(result.status != 0, "mesh \(arguments.joined(separator: " "))")
            #expect(result.stderr.contains(message), "mesh \(arguments.joined(separator: " ")): \(result.stderr)")
            #expect(!result.stderr.contains("unreachable"))
            #expect(!result.stderr.contains("no mesh agent registered"), "mesh \(arguments.joined(separator: " "))")
        }
    }

    @Test("respond, broadcast, shared files and state through one gateway")
    func knowledgeRoundTrip() async throws {
        try await MeshCLITests.withMeshGateway { port in
            let a = try MeshCLITests.agent(port: port)
            let b = try MeshCLITests.agent(port: port)
            let scratch = try CLIProcessTests.temporaryDirectory()
            defer {
                try? FileManager.default.removeItem(atPath: a.dir)
                try? FileManager.default.removeItem(atPath: b.dir)
                try? FileManager.default.removeItem(atPath: scratch)
            }
            let aId = try #require(try await a.json(["register", "--name", "alice", "--caps", "code"])["agent"]?["agentId"]?.stringValue)
            let bId = try #require(try await b.json(["register", "--name", "bob"])["agent"]?["agentId"]?.stringValue)

            // respond: accepts the offer and completes it in one step; B's poll shows the result.
            let first = try #require(try await b.json(["delegate", "--to", aId, "--type", "review"])["taskId"]?.stringValue)
            let answered = try await a.text(["respond", first, "--result", #"{"verdict":"lgtm"}"#])
            #expect(answered.contains("accepted and completed task \(first): now completed"), "\(answered)")
            let results = try await b.json(["poll"])["deliveries"]?.arrayValue ?? []
            let result = try #require(results.first { $0["taskId"] == .string(first) })
            #expect(result["kind"] == "task_result")
            #expect(result["payload"]?["state"] == "completed")
            #expect(result["payload"]?["result"]?["verdict"] == "lgtm")
            _ = try await b.text(["ack", try #require(result["deliveryId"]?.stringValue)])

            // A task accepted earlier is answered without accepting again; --status failed.
            let second = try #require(try await b.json(["delegate", "--to", aId, "--type", "build"])["taskId"]?.stringValue)
            _ = try await a.text(["accept", second])
            let failed = try await a.json(["respond", second, "--status", "failed", "--error", "compiler crashed"])
            #expect(failed["state"] == "failed")
            #expect(failed["error"] == "compiler crashed")
            let failures = try await b.json(["poll"])["deliveries"]?.arrayValue ?? []
            let failure = try #require(failures.first { $0["taskId"] == .string(second) })
            #expect(failure["payload"]?["state"] == "failed")
            #expect(failure["payload"]?["error"] == "compiler crashed")
            _ = try await b.text(["ack", try #require(failure["deliveryId"]?.stringValue)])

            // Answering a finished task fails with the gateway's reason.
            let late = try await a.run(["respond", first])
            #expect(late.status == 1)
            #expect(late.stderr.contains("mesh.complete failed"), "\(late.stderr)")
            #expect(late.stderr.contains("cannot complete task \(first): it is completed"), "\(late.stderr)")

            // broadcast: B receives it as a knowledge_broadcast delivery; both see the history.
            let sent = try await a.text(["broadcast", "--content", "release is frozen", "--topic", "release", "--tags", "ops, freeze"])
            #expect(sent.contains("on topic release to 1 agent(s)"), "\(sent)")
            let inbox = try await b.json(["poll"])["deliveries"]?.arrayValue ?? []
            let broadcast = try #require(inbox.first { $0["kind"] == "knowledge_broadcast" })
            #expect(broadcast["payload"]?["content"] == "release is frozen")
            #expect(broadcast["payload"]?["from"] == .string(aId))
            #expect(broadcast["payload"]?["topic"] == "release")
            #expect(broadcast["payload"]?["tags"] == ["ops", "freeze"])
            _ = try await b.text(["ack", try #require(broadcast["deliveryId"]?.stringValue)])
            _ = try await a.text(["broadcast", "--content", "second"])
            let history = try await b.json(["broadcasts", "--limit", "1"])["broadcasts"]?.arrayValue ?? []
            #expect(history.compactMap { $0["content"]?.stringValue } == ["second"])
            let listed = try await b.text(["broadcasts"])
            #expect(listed.contains("release is frozen") && listed.contains("ops,freeze"), "\(listed)")

            // files: put (from --content, then from --file), conditional writes, list, get, delete.
            let created = try await a.json(["files", "put", "notes/plan.md", "--content", "# Plan\n", "--type", "markdown", "--if-version", "0"])
            #expect(created["version"] == 1)
            #expect(created["fileType"] == "markdown")
            #expect(created["lastEditor"] == .string(aId))
            let exists = try await a.run(["files", "put", "notes/plan.md", "--content", "again", "--if-version", "0"])
            #expect(exists.status == 1)
            #expect(exists.stderr.contains("version conflict"), "\(exists.stderr)")
            let local = scratch + "/plan.md"
            let planText = "# Plan\n\n- ship it ✓\n"
            try planText.write(toFile: local, atomically: true, encoding: .utf8)
            let updated = try await b.text(["files", "put", "notes/plan.md", "--file", local, "--if-version", "1"])
            #expect(updated.contains("wrote file notes/plan.md: version 2 (\(planText.utf8.count) bytes, type markdown)"), "\(updated)")
            let stale = try await a.run(["files", "put", "notes/plan.md", "--content", "stale edit", "--if-version", "1"])
            #expect(stale.status == 1)
            #expect(stale.stderr.contains("mesh.files.put failed: version conflict: file notes/plan.md is at version 2, not 1"), "\(stale.stderr)")
            _ = try await a.json(["files", "put", "readme.txt", "--content", "hello"])

            let files = try await a.json(["files", "list"])["files"]?.arrayValue ?? []
            #expect(files.compactMap { $0["key"]?.stringValue } == ["notes/plan.md", "readme.txt"])
            #expect(files.first?["version"] == 2)
            #expect(files.first?["lastEditor"] == .string(bId))
            let table = try await a.text(["files"])
            #expect(table.contains("KEY") && table.contains("notes/plan.md") && table.contains("readme.txt"), "\(table)")

            #expect(try await a.text(["files", "get", "notes/plan.md"]) == planText)
            let copy = scratch + "/copy.md"
            let wrote = try await a.text(["files", "get", "notes/plan.md", "--output", copy])
            #expect(wrote.contains("to \(copy)"), "\(wrote)")
            #expect(try String(contentsOfFile: copy, encoding: .utf8) == planText)
            #expect(try await a.json(["files", "get", "notes/plan.md"])["content"] == .string(planText))

            let staleDelete = try await a.run(["files", "delete", "notes/plan.md", "--if-version", "1"])
            #expect(staleDelete.status == 1)
            #expect(staleDelete.stderr.contains("version conflict"), "\(staleDelete.stderr)")
            #expect(try await a.text(["files", "delete", "notes/plan.md", "--if-version", "2"]).contains("deleted file notes/plan.md (was version 2)"))
            let gone = try await a.run(["files", "get", "notes/plan.md"])
            #expect(gone.status == 1)
            #expect(gone.stderr.contains("file not found: notes/plan.md"), "\(gone.stderr)")
            #expect(try await b.json(["files", "list"])["count"] == 1)

            // state: last-write-wins, then merge from the other agent; reject needs the version.
            let set = try await a.json(["state", "set", "build", "--value", #"{"branch":"main","targets":["linux"]}"#])
            #expect(set["version"] == 1)
            let merged = try await b.json(["state", "set", "build", "--value", #"{"green":true,"targets":["macos"]}"#, "--policy", "merge"])
            #expect(merged["version"] == 2)
            let document = try await a.json(["state", "get", "build"])
            #expect(document["value"] == ["branch": "main", "green": true, "targets": ["linux", "macos"]])
            #expect(document["version"] == 2)
            #expect(document["updatedBy"] == .string(bId))
            let shown = try await a.text(["state", "get", "build"])
            #expect(shown.contains("state build: version 2, updated by \(bId)"), "\(shown)")
            #expect(shown.contains("macos"))

            let rejected = try await a.run(["state", "set", "build", "--value", "{}", "--policy", "reject", "--if-version", "1"])
            #expect(rejected.status == 1)
            #expect(rejected.stderr.contains("mesh.state.set failed: version conflict: state build is at version 2, not 1"), "\(rejected.stderr)")
            #expect(try await a.json(["state", "get", "build"])["version"] == 2)
            let accepted = try await a.json(["state", "set", "build", "--value", #"{"frozen":true}"#, "--if-version", "2"])
            #expect(accepted["version"] == 3)
            #expect(accepted["value"] == ["frozen": true])
            let missing = try await a.run(["state", "get", "nope"])
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("no state document nope"), "\(missing.stderr)")
        }
    }
}
