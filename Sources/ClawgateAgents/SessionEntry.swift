/// A row of `sessions.json` (`sessionKey → SessionEntry`), with OpenClaw's field names so the
/// file stays readable by its tooling. Counters accumulate over the session's runs.
public struct SessionEntry: Sendable, Hashable, Codable {
    public var sessionId: String
    public var updatedAt: Int
    public var sessionStartedAt: Int
    public var lastInteractionAt: Int?
    public var sessionFile: String?
    public var chatType: String
    public var displayName: String?
    public var label: String?
    public var thinkingLevel: String?
    public var verboseLevel: String?
    public var reasoningLevel: String?
    public var elevatedLevel: String?
    public var responseUsage: String?
    public var sendPolicy: String?
    public var providerOverride: String?
    public var modelOverride: String?
    public var spawnedBy: String?
    public var modelProvider: String?
    public var model: String?
    public var inputTokens: Int
    public var outputTokens: Int
    public var totalTokens: Int
    public var contextTokens: Int?
    public var abortedLastRun: Bool?

    public init(sessionId: String, nowMs: Int, sessionFile: String?) {
        self.sessionId = sessionId
        self.updatedAt = nowMs
        self.sessionStartedAt = nowMs
        self.sessionFile = sessionFile
        self.chatType = "direct"
        self.inputTokens = 0
        self.outputTokens = 0
        self.totalTokens = 0
    }
}
