import ArgumentParser
import ClawgateProtocol

/// `clawgate mesh broadcast`: shares a piece of knowledge with every other agent of the
/// namespace (those that registered for its topic). Each gets a `knowledge_broadcast` delivery.
struct MeshBroadcastCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broadcast", abstract: "Send a knowledge message to the other agents of the namespace."
    )

    @OptionGroup var client: ClientOptions
    @Option(help: "The message.") var content: String
    @Option(help: "Topic (default: general); agents that registered for topics get only theirs.") var topic: String?
    @Option(help: "Tags, comma-separated.") var tags: String?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if content.isEmpty { throw ValidationError("--content must not be empty") }
        if let topic, topic.isEmpty { throw ValidationError("--topic must not be empty") }
    }

    func run() async throws {
        let params = MeshBroadcastParams(content: content, topic: topic, tags: MeshArgs.list(tags))
        let json = self.json
        try await MeshSession.run {
            let result = try await MeshSession.withAgent(client) { try await $0.call("mesh.broadcast", params) }
            if json { return print(Output.json(result, pretty: false)) }
            let broadcast = result["broadcast"] ?? .null
            print(
                "broadcast \(MeshFormat.string(broadcast["broadcastId"])) on topic \(MeshFormat.string(broadcast["topic"])) "
                    + "to \(MeshFormat.string(result["recipients"], "0")) agent(s)"
            )
        }
    }
}

/// `clawgate mesh broadcasts`: the namespace's recent broadcasts (a bounded history).
struct MeshBroadcastsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "broadcasts", abstract: "List the namespace's recent broadcasts (newest first).")

    @OptionGroup var client: ClientOptions
    @Option(help: "At most this many (default 100).") var limit: Int?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let params = MeshPollParams(limit: limit)
        let json = self.json
        try await MeshSession.run {
            let result = try await MeshSession.withAgent(client) { try await $0.call("mesh.broadcasts.list", params) }
            if json { return print(Output.json(result, pretty: false)) }
            let broadcasts = result["broadcasts"]?.arrayValue ?? []
            print(broadcasts.isEmpty ? "no broadcasts" : MeshFormat.broadcasts(broadcasts))
        }
    }
}
