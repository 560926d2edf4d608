/// The legal moves of a task, each with its guard. Pure: takes a task, returns the next one.
public enum TaskTransition: Sendable, Equatable {
    case offer(to: String)
    case accept(by: String)
    case reject(by: String, reason: String?)
    case update(by: String, percentage: Int?, message: String?)
    case complete(by: String)
    case fail(by: String, error: String)
    case cancel(by: String)
    case expire
    case deadLetter
}

public enum TaskStateMachine {
    public static func apply(_ transition: TaskTransition, to task: MeshTask, nowMs: Int) throws(MeshError) -> MeshTask {
        var next = task
        next.updatedAtMs = nowMs
        next.version += 1
        switch transition {
        case .offer(let agent):
            try require(task, in: [.queued, .offered], "offer")
            next.state = .offered
            next.assignee = agent
        case .accept(let agent):
            try require(task, in: [.offered], "accept")
            try requireAssignee(task, agent)
            next.state = .accepted
        case .reject(let agent, let reason):
            try require(task, in: [.offered], "reject")
            try requireAssignee(task, agent)
            next.rejectedBy.append(agent)
            next.assignee = nil
            if task.isRoutedByRequirements {
                // Goes back to routing; the service offers it to another matching agent.
                next.state = .queued
            } else {
                next.state = .rejected
                next.error = reason.map { "rejected by \(agent): \($0)" } ?? "rejected by \(agent)"
            }
        case .update(let agent, let percentage, let message):
            try require(task, in: [.accepted, .inProgress], "update")
            try requireAssignee(task, agent)
            next.state = .inProgress
            next.progress = TaskProgress(percentage: percentage, message: message, updatedAtMs: nowMs)
        case .complete(let agent):
            try require(task, in: [.accepted, .inProgress], "complete")
            try requireAssignee(task, agent)
            next.state = .completed
        case .fail(let agent, let error):
            try require(task, in: [.accepted, .inProgress], "fail")
            try requireAssignee(task, agent)
            next.state = .failed
            next.error = error
        case .cancel(let agent):
            guard agent == task.from else {
                throw MeshError(.forbidden, "only the delegating agent \(task.from) can cancel task \(task.taskId)")
            }
            guard !task.state.isTerminal else { throw illegal(task, "cancel") }
            next.state = .canceled
        case .expire:
            guard !task.state.isTerminal else { throw illegal(task, "expire") }
            next.state = .expired
            next.error = "deadline passed"
        case .deadLetter:
            try require(task, in: [.offered], "dead-letter")
            next.state = .deadLettered
            next.error = "no answer to the offer after the maximum number of delivery attempts"
        }
        return next
    }

    private static func require(_ task: MeshTask, in states: Set<TaskState>, _ action: String) throws(MeshError) {
        guard states.contains(task.state) else { throw illegal(task, action) }
    }

    private static func requireAssignee(_ task: MeshTask, _ agent: String) throws(MeshError) {
        guard task.assignee == agent else {
            throw MeshError(.forbidden, "task \(task.taskId) is not assigned to \(agent)")
        }
    }

    private static func illegal(_ task: MeshTask, _ action: String) -> MeshError {
        MeshError(.illegalTransition, "cannot \(action) task \(task.taskId): it is \(task.state.rawValue)")
    }
}
