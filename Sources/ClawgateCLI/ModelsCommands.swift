import ArgumentParser
import ClawgateClient
import ClawgateProtocol
import Foundation

/// `clawgate models`: the models the gateway's agents can use.
struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models", abstract: "List the configured models.", subcommands: [ModelsListCommand.self],
        defaultSubcommand: ModelsListCommand.self
    )
}

/// `clawgate models list`: `models.list` as a table.
struct ModelsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the configured models (models.providers).")

    @OptionGroup var client: ClientOptions
    @Flag(help: "Print the gateway's answer as JSON.") var json = false

    func run() async throws {
        let result: JSONValue
        do {
            result = try await client.withConnection { try await $0.call("models.list", params: .object([:])) }
        } catch {
            throw Output.fail("\(error)")
        }
        if json {
            print(Output.json(result, pretty: false))
            return
        }
        let models = result["models"]?.arrayValue ?? []
        if models.isEmpty {
            print("No models configured (add models.providers to the gateway config).")
            return
        }
        print(
            MeshFormat.table(
                ["PROVIDER/MODEL", "NAME", "CONTEXT"],
                models.map { model in
                    let id = MeshFormat.string(model["id"])
                    let ref = model["provider"]?.stringValue.map { "\($0)/\(id)" } ?? id
                    return [ref, MeshFormat.string(model["name"]), MeshFormat.string(model["contextWindow"])]
                }
            )
        )
    }
}
