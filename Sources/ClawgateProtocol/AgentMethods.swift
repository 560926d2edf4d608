/// Params of the hosted-agent methods (`chat.*`, `agent*`, `sessions.*`, `models.list`,
/// `agents.list`, `wake`), closed objects with OpenClaw's field names. Fields OpenClaw defines
/// for channels Clawgate does not have are accepted so real clients work unchanged.

public struct ChatSendParams: MethodParams, Equatable {
    public static let fields: Set<String> = [
        "sessionKey", "message", "idempotencyKey", "thinking", "deliver", "attachments", "timeoutMs", "sessionId",
    ]
    public var sessionKey: String
    public var message: String
    public var idempotencyKey: String
    public var thinking: String?
    public var deliver: Bool?
    public var attachments: [JSONValue]?
    public var timeoutMs: Int?
    public var sessionId: String?

    public init(sessionKey: String, message: String, idempotencyKey: String, timeoutMs: Int? = nil) {
        self.sessionKey = sessionKey
        self.message = message
        self.idempotencyKey = idempotencyKey
        self.timeoutMs = timeoutMs
    }
}

public struct ChatHistoryParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["sessionKey", "limit", "maxChars"]
    public var sessionKey: String
    public var limit: Int?
    public var maxChars: Int?

    public init(sessionKey: String, limit: Int? = nil) {
        self.sessionKey = sessionKey
        self.limit = limit
    }
}

public struct ChatAbortParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["sessionKey", "runId"]
    public var sessionKey: String
    public var runId: String?

    public init(sessionKey: String, runId: String? = nil) {
        self.sessionKey = sessionKey
        self.runId = runId
    }
}

public struct ChatInjectParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["sessionKey", "message", "label", "idempotencyKey"]
    public var sessionKey: String
    public var message: String
    public var label: String?
    public var idempotencyKey: String?
}

/// `agent` (§1.12): answered twice on the same request id, `accepted` then the final.
public struct AgentParams: MethodParams, Equatable {
    public static let fields: Set<String> = [
        "message", "idempotencyKey", "agentId", "to", "replyTo", "sessionId", "sessionKey", "thinking", "deliver",
        "bestEffortDeliver", "attachments", "channel", "replyChannel", "accountId", "replyAccountId", "threadId", "groupId",
        "groupChannel", "groupSpace", "timeout", "lane", "extraSystemPrompt", "inputProvenance", "voiceWakeTrigger", "label",
        "spawnedBy",
    ]
    public var message: String
    public var idempotencyKey: String
    public var agentId: String?
    public var to: String?
    public var replyTo: String?
    public var sessionId: String?
    public var sessionKey: String?
    public var thinking: String?
    public var deliver: Bool?
    public var bestEffortDeliver: Bool?
    public var attachments: [JSONValue]?
    public var channel: String?
    public var replyChannel: String?
    public var accountId: String?
    public var replyAccountId: String?
    public var threadId: String?
    public var groupId: String?
    public var groupChannel: String?
    public var groupSpace: String?
    /// Milliseconds.
    public var timeout: Int?
    public var lane: String?
    public var extraSystemPrompt: String?
    public var inputProvenance: JSONValue?
    public var voiceWakeTrigger: String?
    public var label: String?
    public var spawnedBy: String?

    public init(message: String, idempotencyKey: String, agentId: String? = nil, sessionKey: String? = nil, timeout: Int? = nil) {
        self.message = message
        self.idempotencyKey = idempotencyKey
        self.agentId = agentId
        self.sessionKey = sessionKey
        self.timeout = timeout
    }
}

public struct AgentWaitParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["runId", "timeoutMs"]
    public var runId: String
    public var timeoutMs: Int?

    public init(runId: String, timeoutMs: Int? = nil) {
        self.runId = runId
        self.timeoutMs = timeoutMs
    }
}

public struct AgentIdentityParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["agentId", "sessionKey"]
    public var agentId: String?
    public var sessionKey: String?
}

public struct ModelsListParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["view"]
    public var view: String?
}

public struct SessionsListParams: MethodParams, Equatable {
    public static let fields: Set<String> = [
        "limit", "activeMinutes", "includeGlobal", "includeUnknown", "includeDerivedTitles", "includeLastMessage", "label",
        "spawnedBy", "agentId", "search", "offset",
    ]
    public var limit: Int?
    public var activeMinutes: Int?
    public var includeGlobal: Bool?
    public var includeUnknown: Bool?
    public var includeDerivedTitles: Bool?
    public var includeLastMessage: Bool?
    public var label: String?
    public var spawnedBy: String?
    public var agentId: String?
    public var search: String?
    public var offset: Int?

    public init(agentId: String? = nil, limit: Int? = nil) {
        self.agentId = agentId
        self.limit = limit
    }
}

public struct SessionsPreviewParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["keys", "limit", "maxChars"]
    public var keys: [String]
    public var limit: Int?
    public var maxChars: Int?
}

public struct SessionsResolveParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["key", "sessionId", "label", "agentId", "spawnedBy", "includeGlobal", "includeUnknown"]
    public var key: String?
    public var sessionId: String?
    public var label: String?
    public var agentId: String?
    public var spawnedBy: String?
    public var includeGlobal: Bool?
    public var includeUnknown: Bool?
}

/// `sessions.patch`: each field may be `null` to clear it, so values stay raw JSON.
public struct SessionsPatchParams: MethodParams, Equatable {
    public static let fields: Set<String> = [
        "key", "label", "thinkingLevel", "verboseLevel", "reasoningLevel", "responseUsage", "elevatedLevel", "execHost",
        "execSecurity", "execAsk", "execNode", "model", "spawnedBy", "sendPolicy", "groupActivation",
    ]
    public var key: String
}

public struct SessionsResetParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["key", "reason"]
    public var key: String
    public var reason: String?
}

public struct SessionsDeleteParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["key", "deleteTranscript"]
    public var key: String
    public var deleteTranscript: Bool?
}

public struct WakeParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["mode", "text", "sessionKey"]
    public var mode: String
    public var text: String
    public var sessionKey: String?
}
