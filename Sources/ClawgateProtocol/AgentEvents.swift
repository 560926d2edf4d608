/// Payloads of the `chat` and `agent` events (§1.12, §1.13).

/// The `message` snapshot in `chat` events: the assistant text so far.
public struct ChatEventMessage: Codable, Sendable, Equatable {
    public struct Part: Codable, Sendable, Equatable {
        public var type: String
        public var text: String
    }

    public var role: String
    public var content: [Part]
    public var timestamp: Int?

    public init(text: String, timestamp: Int?) {
        self.role = "assistant"
        self.content = [Part(type: "text", text: text)]
        self.timestamp = timestamp
    }

    public var text: String { content.map(\.text).joined() }
}

/// Token usage as OpenClaw writes it (`chat` events, transcript messages).
public struct ChatEventUsage: Codable, Sendable, Hashable {
    public var input: Int
    public var output: Int
    public var totalTokens: Int

    public init(input: Int, output: Int) {
        self.input = input
        self.output = output
        self.totalTokens = input + output
    }
}

/// `event:"chat"`, discriminated on `state` (delta, final, aborted, error).
public struct ChatEventPayload: Codable, Sendable, Equatable {
    public var runId: String
    public var sessionKey: String
    public var seq: Int
    public var state: String
    public var agentId: String?
    public var deltaText: String?
    public var message: ChatEventMessage?
    public var usage: ChatEventUsage?
    public var stopReason: String?
    public var errorMessage: String?
    public var errorKind: String?
    public var errorDetail: JSONValue?

    public init(runId: String, sessionKey: String, seq: Int, state: String, agentId: String?) {
        self.runId = runId
        self.sessionKey = sessionKey
        self.seq = seq
        self.state = state
        self.agentId = agentId
    }
}

/// `event:"agent"`: one stream item of a run (`lifecycle`, `assistant`, `tool`).
public struct AgentEventPayload: Codable, Sendable, Equatable {
    public var runId: String
    public var seq: Int
    public var stream: String
    public var ts: Int
    public var data: JSONValue
    public var sessionKey: String?

    public init(runId: String, seq: Int, stream: String, ts: Int, data: JSONValue, sessionKey: String?) {
        self.runId = runId
        self.seq = seq
        self.stream = stream
        self.ts = ts
        self.data = data
        self.sessionKey = sessionKey
    }
}
