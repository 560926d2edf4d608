import ArgumentParser
import ClawgateProtocol

/// The assignee's side of a task: `accept`/`reject` an offer, report progress with `update`,
/// finish with `complete` or `fail`. Each is one RPC acting as the stored agent, printing the
/// task's new state (or the task record with `--json`).
enum MeshTaskAction {
    /// Builds the params (bad input fails here, before connecting), calls `method`, prints.
    static func perform<P: Encodable & Sendable>(
        _ client: ClientOptions, _ method: String, verb: String, json: Bool, params: () throws -> P
    ) async throws {
        try await MeshSession.run {
            let params = try params()
            let task = try await MeshSession.withAgent(client) { try await $0.call(method, params) }
            print(json ? Output.json(task, pretty: false) : MeshFormat.transition(verb, task))
        }
    }
}

struct MeshAcceptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "accept", abstract: "Accept a task offered to you.")

    @OptionGroup var client: ClientOptions
    @Argument(help: "Task id (from `clawgate mesh poll`).") var taskId: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await MeshTaskAction.perform(client, "mesh.accept", verb: "accepted", json: json) { MeshTaskParams(taskId: taskId) }
    }
}

struct MeshRejectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject", abstract: "Reject a task offered to you (it is routed to another agent or returned)."
    )

    @OptionGroup var client: ClientOptions
    @Argument(help: "Task id.") var taskId: String
    @Option(help: "Why, for the delegator.") var reason: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await MeshTaskAction.perform(client, "mesh.reject", verb: "rejected", json: json) {
            MeshRejectParams(taskId: taskId, reason: reason)
        }
    }
}

struct MeshUpdateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Report progress on a task you accepted.")

    @OptionGroup var client: ClientOptions
    @Argument(help: "Task id.") var taskId: String
    @Option(help: "Percentage done, 0 to 100.") var percent: Int?
    @Option(help: "Progress message.") var message: String?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if let percent, !(0...100).contains(percent) { throw ValidationError("--percent must be between 0 and 100") }
    }

    func run() async throws {
        try await MeshTaskAction.perform(client, "mesh.update", verb: "updated", json: json) {
            MeshUpdateParams(taskId: taskId, percentage: percent, message: message)
        }
    }
}

struct MeshCompleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "complete", abstract: "Complete a task you accepted; the result goes to the delegator."
    )

    @OptionGroup var client: ClientOptions
    @Argument(help: "Task id.") var taskId: String
    @Option(help: "The result, as JSON.") var result: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await MeshTaskAction.perform(client, "mesh.complete", verb: "completed", json: json) {
            MeshCompleteParams(taskId: taskId, result: try MeshArgs.json(result, option: "--result"))
        }
    }
}

struct MeshFailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fail", abstract: "Give up on a task you accepted, with an error.")

    @OptionGroup var client: ClientOptions
    @Argument(help: "Task id.") var taskId: String
    @Option(help: "What went wrong, for the delegator.") var error: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await MeshTaskAction.perform(client, "mesh.fail", verb: "failed", json: json) {
            MeshFailParams(taskId: taskId, error: error)
        }
    }
}
