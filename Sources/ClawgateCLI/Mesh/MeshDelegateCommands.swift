import ArgumentParser
import ClawgateProtocol
import Foundation

/// `clawgate mesh delegate`: hands a task to another agent, by id or by capabilities.
///
/// With `--wait` the command stays connected until the result arrives, so a shell script can
/// use a remote agent like a function call: the result is printed, acknowledged (so it is not
/// delivered again) and the exit code says whether the task completed.
struct MeshDelegateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delegate", abstract: "Delegate a task to an agent (--to) or to whoever has the capabilities (--caps)."
    )

    @OptionGroup var client: ClientOptions
    @Option(help: "The agent id to give the task to.") var to: String?
    @Option(help: "Route to an online agent with all of these capabilities, comma-separated.") var caps: String?
    @Option(name: .customLong("type"), help: "Task type.") var taskType: String
    @Option(name: .customLong("description"), help: "What to do.") var taskDescription: String?
    @Option(help: "Context for the task, as JSON.") var context: String?
    @Option(help: "low, normal (default), high or urgent.") var priority: String?
    @Option(name: .customLong("deadline-ms"), help: "Deadline in epoch milliseconds.") var deadlineMs: Int?
    @Option(name: .customLong("idempotency-key"), help: "Retries with the same key get the same task.") var idempotencyKey: String?
    @Option(help: "Wait up to this many seconds for the result; print it and acknowledge it.") var wait: Double?
    @Flag(help: "Print JSON (the task record; with --wait the finished one).") var json = false

    func validate() throws {
        switch (to, MeshArgs.list(caps)) {
        case (nil, nil): throw ValidationError("say who should do the task: --to AGENT or --caps a,b")
        case (.some, .some): throw ValidationError("give either --to or --caps, not both")
        case (nil, let list?) where list.isEmpty: throw ValidationError("--caps needs at least one capability")
        default: break
        }
        if let priority, !["low", "normal", "high", "urgent"].contains(priority) {
            throw ValidationError("--priority must be low, normal, high or urgent")
        }
        if let wait, !(wait > 0 && wait <= 86_400) { throw ValidationError("--wait must be between 0 and 86400 seconds") }
    }

    func run() async throws {
        let json = self.json
        let wait = self.wait
        try await MeshSession.run {
            let params = MeshDelegateParams(
                to: to, requirements: MeshArgs.list(caps).map { MeshDelegateParams.Requirements(capabilities: $0) },
                type: taskType, description: taskDescription, context: try MeshArgs.json(context, option: "--context"),
                priority: priority, deadline: deadlineMs, idempotencyKey: idempotencyKey
            )
            let waitFor = wait.map { Duration.milliseconds(Int($0 * 1000)) }
            let (task, finished) = try await MeshSession.withAgent(client, extraTime: waitFor ?? .zero, subscribe: wait != nil) {
                agent -> (JSONValue, JSONValue?) in
                let task = try await agent.call("mesh.delegate", params)
                guard let waitFor, let taskId = task["taskId"]?.stringValue else { return (task, nil) }
                if !json { print(Self.delegated(task)) }
                guard let delivery = try await Self.result(of: taskId, agent: agent, within: waitFor) else { return (task, nil) }
                if let deliveryId = delivery["deliveryId"]?.stringValue {
                    _ = try await agent.call("mesh.ack", MeshAckParams(deliveryIds: [deliveryId]))
                }
                return (task, delivery["payload"] ?? .null)
            }
            guard let wait else {
                return print(json ? Output.json(task, pretty: false) : Self.delegated(task))
            }
            guard let finished else {
                if json { print(Output.json(task, pretty: false)) }
                throw MeshCLIError("no result for task \(MeshFormat.string(task["taskId"])) within \(wait) s (it stays delegated)")
            }
            if json {
                print(Output.json(finished, pretty: false))
            } else {
                print("task \(MeshFormat.string(finished["taskId"])): \(MeshFormat.string(finished["state"])) (assignee \(MeshFormat.string(finished["assignee"])))")
                if let result = finished["result"], !result.isNull { print(Output.json(result, pretty: true)) }
                if let error = finished["error"], !error.isNull { print("error: \(MeshFormat.string(error))") }
            }
            if finished["state"]?.stringValue != "completed" { throw ExitCode(1) }
        }
    }

    static func delegated(_ task: JSONValue) -> String {
        let state = MeshFormat.string(task["state"])
        let target = task["assignee"]?.stringValue.map { " to \($0)" } ?? ""
        return "delegated task \(MeshFormat.string(task["taskId"])): \(state)\(target)"
    }

    /// The `task_result` delivery for `taskId`: pushed to this connection while it waits, or
    /// (when the push went to another connection of this agent) found by an occasional poll.
    static func result(of taskId: String, agent: MeshAgentConnection, within limit: Duration) async throws -> JSONValue? {
        let matches: (JSONValue) -> Bool = { $0["kind"]?.stringValue == "task_result" && $0["taskId"]?.stringValue == taskId }
        let deadline = ContinuousClock.now + limit
        var nextPoll = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if let delivery = agent.inbox.take(where: matches) { return delivery }
            if ContinuousClock.now >= nextPoll {
                let polled = try await agent.call("mesh.poll", MeshPollParams())
                if let delivery = polled["deliveries"]?.arrayValue?.first(where: matches) { return delivery }
                nextPoll = ContinuousClock.now + .seconds(5)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }
}

/// `clawgate mesh cancel`: the delegator takes a task back.
struct MeshCancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a task you delegated.")

    @OptionGroup var client: ClientOptions
    @Argument(help: "Task id.") var taskId: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await MeshTaskAction.perform(client, "mesh.cancel", verb: "canceled", json: json) { MeshTaskParams(taskId: taskId) }
    }
}
