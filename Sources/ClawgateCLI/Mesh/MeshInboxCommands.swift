import ArgumentParser
import ClawgateProtocol

/// `clawgate mesh poll`: what waits for this agent (task offers, results, cancellations).
///
/// Binding the connection already makes the gateway push waiting deliveries (and lease them),
/// so `mesh.poll` alone would miss those: the command shows the pushed ones plus whatever the
/// poll returns. Deliveries stay until answered: offers by `accept`/`reject`, the rest by `ack`.
/// One handed out within the lease (30 s by default) to another connection of this agent
/// (another mesh command) shows up again when the lease ends.
struct MeshPollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "poll", abstract: "Show deliveries waiting for this agent.")

    @OptionGroup var client: ClientOptions
    @Option(help: "At most this many from the poll (pushed ones are always shown).") var limit: Int?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let limit = self.limit
        let json = self.json
        try await MeshSession.run {
            let deliveries = try await MeshSession.withAgent(client) { agent in
                try await agent.call("mesh.poll", MeshPollParams(limit: limit))["deliveries"]?.arrayValue ?? []
            }
            if json {
                return print(Output.json(["deliveries": .array(deliveries), "count": .int(deliveries.count)], pretty: false))
            }
            guard !deliveries.isEmpty else { return print("nothing waiting") }
            print(MeshFormat.deliveries(deliveries))
            print("(answer offers with `clawgate mesh accept|reject TASK`, acknowledge the rest with `clawgate mesh ack DELIVERY`)")
        }
    }
}

/// `clawgate mesh ack`: marks results and notices as processed, so they are not delivered again.
struct MeshAckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ack", abstract: "Acknowledge deliveries (results, cancellations).")

    @OptionGroup var client: ClientOptions
    @Argument(help: "Delivery ids (from `clawgate mesh poll`).") var deliveryIds: [String] = []
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if deliveryIds.isEmpty { throw ValidationError("give at least one delivery id") }
    }

    func run() async throws {
        let params = MeshAckParams(deliveryIds: deliveryIds)
        let json = self.json
        try await MeshSession.run {
            let result = try await MeshSession.withAgent(client) { try await $0.call("mesh.ack", params) }
            print(json ? Output.json(result, pretty: false) : "acknowledged \(MeshFormat.string(result["acked"], "0")) delivery(ies)")
        }
    }
}
