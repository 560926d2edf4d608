import ClawgateModels

/// What a run reports while it goes, in order: `started`, then deltas and tool activity, then
/// exactly one `finished`.
public enum RunEvent: Sendable {
    case started(RunInfo)
    /// New assistant text; `cumulative` is all assistant text of the run so far.
    case delta(text: String, cumulative: String)
    case toolStarted(ToolCall)
    case toolFinished(ToolCall, result: String, isError: Bool)
    /// The router moved on to another attempt or model (for logs and metrics).
    case modelAttempt(ModelRef, attempt: Int)
    case retrying(ModelRef, error: ModelError, delayMs: Int)
    case fallingBack(from: ModelRef, to: ModelRef, error: ModelError)
    case finished(RunOutcome)
}

public struct RunInfo: Sendable, Hashable {
    public var runId: String
    public var sessionKey: String
    public var agentId: String
    public var startedAt: Int
}

/// How a run ended.
public struct RunOutcome: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        case ok
        case error
        case aborted
        case timeout
    }

    public var runId: String
    public var sessionKey: String
    public var agentId: String
    public var status: Status
    /// All assistant text of the run.
    public var text: String
    /// Calls to client tools the caller must execute (OpenAI passthrough).
    public var clientToolCalls: [ToolCall]
    public var usage: TokenUsage
    public var finishReason: FinishReason?
    public var model: ModelRef?
    public var errorKind: ModelErrorKind?
    public var errorMessage: String?
    public var errorDetail: ModelError?
    public var startedAt: Int
    public var endedAt: Int
}
