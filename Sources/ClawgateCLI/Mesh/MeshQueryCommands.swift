import ArgumentParser
import ClawgateProtocol

/// `clawgate mesh tasks [list]` and `clawgate mesh tasks get TASK`: the tasks of the agent's
/// namespace, to follow work without waiting for deliveries.
struct MeshTasksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks", abstract: "List the namespace's tasks, or show one.",
        subcommands: [MeshTasksListCommand.self, MeshTasksGetCommand.self], defaultSubcommand: MeshTasksListCommand.self
    )
}

struct MeshTasksListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List tasks (newest first).")

    @OptionGroup var client: ClientOptions
    @Option(name: .customLong("state"), help: "Only these states (repeat or comma-separate), e.g. offered,in_progress.")
    var states: [String] = []
    @Option(help: "Only tasks this agent delegated or holds.") var involving: String?
    @Option(help: "At most this many (1 to 1000; default 100).") var limit: Int?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let params = MeshTasksListParams(states: MeshArgs.list(states), involving: involving, limit: limit)
        let json = self.json
        try await MeshSession.run {
            let result = try await MeshSession.withAgent(client) { try await $0.call("mesh.tasks.list", params) }
            if json { return print(Output.json(result, pretty: false)) }
            let tasks = result["tasks"]?.arrayValue ?? []
            print(tasks.isEmpty ? "no tasks" : MeshFormat.tasks(tasks))
        }
    }
}

struct MeshTasksGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show one task.")

    @OptionGroup var client: ClientOptions
    @Argument(help: "Task id.") var taskId: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await Self.show(taskId, client: client, json: json)
    }

    static func show(_ taskId: String, client: ClientOptions, json: Bool) async throws {
        try await MeshSession.run {
            let task = try await MeshSession.withAgent(client) { try await $0.call("mesh.tasks.get", MeshTaskParams(taskId: taskId)) }
            print(json ? Output.json(task, pretty: false) : MeshFormat.task(task))
        }
    }
}

/// `clawgate mesh task TASK`: shorthand for `clawgate mesh tasks get TASK`.
struct MeshTaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "task", abstract: "Show one task (same as `tasks get`).")

    @OptionGroup var client: ClientOptions
    @Argument(help: "Task id.") var taskId: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await MeshTasksGetCommand.show(taskId, client: client, json: json)
    }
}

/// `clawgate mesh events`: the namespace's durable event log, resumable by sequence number, for
/// scripts that follow the mesh without holding a connection open.
struct MeshEventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "Show mesh events after a sequence number.")

    @OptionGroup var client: ClientOptions
    @Option(help: "Only events after this sequence number (default 0: from the start).") var since = 0
    @Option(help: "At most this many (default 500).") var limit: Int?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if since < 0 { throw ValidationError("--since must be >= 0") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let params = MeshEventsSinceParams(seq: since, limit: limit)
        let json = self.json
        try await MeshSession.run {
            let result = try await MeshSession.withAgent(client) { try await $0.call("mesh.events.since", params) }
            if json { return print(Output.json(result, pretty: false)) }
            let events = result["events"]?.arrayValue ?? []
            if !events.isEmpty { print(MeshFormat.events(events)) }
            let last = MeshFormat.string(result["lastSeq"], "0")
            print("\(events.count) event(s); last seq \(last) (continue with --since \(last))")
        }
    }
}
