import ArgumentParser
import ClawgateClient
import ClawgateProtocol

/// `clawgate mesh respond TASK`: the ClawLink-style answer to an offered task in one step.
///
/// Accepts the task first when it is still offered to this agent; a task this agent already
/// accepted (or is working on) answers `mesh.accept` with `illegal_transition`, which is fine
/// here. Then completes it with `--result`, or fails it with `--error` (`--status failed`).
struct MeshRespondCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "respond", abstract: "Answer a task: accept it if still offered, then complete (or fail) it.",
        discussion: """
            Same as `clawgate mesh accept TASK` followed by `clawgate mesh complete TASK --result JSON` \
            (or `fail TASK --error MSG` with `--status failed`), except that a task you already accepted \
            is answered without accepting it again.
            """
    )

    @OptionGroup var client: ClientOptions
    @Argument(help: "Task id (from `clawgate mesh poll`).") var taskId: String
    @Option(help: "The result, as JSON (with --status completed).") var result: String?
    @Option(help: "completed (default) or failed.") var status = "completed"
    @Option(help: "What went wrong, for the delegator (required with --status failed).") var error: String?
    @Flag(help: "Print JSON (the finished task record).") var json = false

    func validate() throws {
        switch status {
        case "completed":
            if error != nil { throw ValidationError("--error goes with --status failed") }
        case "failed":
            guard let error, !error.isEmpty else { throw ValidationError("--status failed needs --error MSG") }
            if result != nil { throw ValidationError("--result goes with --status completed (a failed task carries only --error)") }
        default:
            throw ValidationError("--status must be completed or failed")
        }
    }

    func run() async throws {
        let taskId = self.taskId
        let failure = status == "failed" ? error : nil
        let json = self.json
        try await MeshSession.run {
            let value = try MeshArgs.json(result, option: "--result")
            let (task, accepted) = try await MeshSession.withAgent(client) { agent -> (JSONValue, Bool) in
                let accepted = try await Self.acceptIfOffered(taskId, agent: agent)
                do {
                    if let failure {
                        return (try await agent.call("mesh.fail", MeshFailParams(taskId: taskId, error: failure)), accepted)
                    }
                    return (try await agent.call("mesh.complete", MeshCompleteParams(taskId: taskId, result: value)), accepted)
                } catch let refused where accepted {
                    throw MeshCLIError("\(refused) (task \(taskId) was accepted and stays accepted)")
                }
            }
            if json { return print(Output.json(task, pretty: false)) }
            let verb = failure == nil ? "completed" : "failed"
            print(MeshFormat.transition(accepted ? "accepted and \(verb)" : verb, task))
        }
    }

    /// `mesh.accept`; false when the task was past the offer already (`illegal_transition`),
    /// e.g. accepted earlier. Any other refusal (not this agent's task, unknown task) is an error.
    static func acceptIfOffered(_ taskId: String, agent: MeshAgentConnection) async throws -> Bool {
        do {
            _ = try await agent.call("mesh.accept", MeshTaskParams(taskId: taskId))
            return true
        } catch GatewayClientError.requestFailed(_, let shape) where shape.detailCode == "illegal_transition" {
            return false
        }
    }
}
