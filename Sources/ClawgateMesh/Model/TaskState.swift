/// A task's lifecycle: `queued → offered → accepted → in_progress → completed | failed`, plus the
/// terminal `rejected`, `canceled`, `expired` and `dead_lettered`.
public enum TaskState: String, Codable, Sendable, CaseIterable {
    case queued
    case offered
    case accepted
    case inProgress = "in_progress"
    case completed
    case failed
    case rejected
    case canceled
    case expired
    case deadLettered = "dead_lettered"

    public var isTerminal: Bool {
        switch self {
        case .completed, .failed, .rejected, .canceled, .expired, .deadLettered: true
        case .queued, .offered, .accepted, .inProgress: false
        }
    }

    /// Counts against the assignee's `maxConcurrentTasks`.
    public var occupiesAssignee: Bool {
        self == .offered || self == .accepted || self == .inProgress
    }
}
