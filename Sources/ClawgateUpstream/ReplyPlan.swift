/// The parts of a chat-style request that decide the answer, whatever the dialect: each route
/// parses its own wire format into this, and `ReplyPlan` turns it plus a step into an answer.
struct Conversation {
    var model: String
    var stream: Bool
    /// Text of the last user message that has any text (tool results do not count).
    var lastUserText: String = ""
    /// Content of the last tool / function result in the request.
    var lastToolResult: String = ""
    /// Words across every message text, system prompt and tool result: the input token count.
    var inputWords: Int = 0
    /// `max_tokens` / `max_completion_tokens` / `max_output_tokens`, if the request set one.
    var maxOutputTokens: Int?

    init(model: String, stream: Bool) {
        self.model = model
        self.stream = stream
    }

    /// Adds one piece of message text to the input count.
    mutating func count(_ text: String) {
        inputWords += Words.count(text)
    }
}

/// What the model "says".
enum ReplyBody {
    case text
    case refusal
    case toolCall(id: Int, name: String, arguments: String)
}

/// A planned answer: the pieces to stream and the usage to report.
struct Reply {
    var body: ReplyBody
    /// Text or refusal chunks (after any `max_tokens` cut), or tool-call argument fragments.
    var chunks: [String]
    /// The answer was cut at the request's output-token limit.
    var truncated: Bool
    var outputTokens: Int

    /// The full text, refusal or arguments.
    var text: String { chunks.joined() }

    var isToolCall: Bool {
        if case .toolCall = body { return true }
        return false
    }
}

/// How a streamed answer is paced on the wire.
enum Pacing {
    /// Everything in one write: the benchmark's hot path.
    case immediate
    /// Pause this long before every content chunk.
    case paced(milliseconds: Int)
    /// Send up to and including the first content chunk, then wait for the client to leave.
    case hangAfterFirstChunk
    /// Send every event, then wait for the client to leave instead of ending the body.
    case hangAfterDone
}

/// A scripted failure, rendered in each dialect's error shape.
enum PlannedFailure {
    case status(Int, message: String)
    case contextLengthExceeded
}

/// The outcome of one step for one request.
enum ReplyPlan {
    case answer(Reply, Pacing)
    case fail(PlannedFailure)
    case hang

    static let refusalText = "I'm sorry, but I can't help with that request."

    static func make(step: UpstreamStep, conversation: Conversation, state: UpstreamState) -> ReplyPlan {
        switch step {
        case .echo:
            return .answer(text("echo: " + conversation.lastUserText, conversation), .immediate)
        case .reply(let text):
            return .answer(self.text(text, conversation), .immediate)
        case .replyWithToolResult:
            return .answer(text("tool result: " + conversation.lastToolResult, conversation), .immediate)
        case .slow(let text, let delay):
            return .answer(self.text(text, conversation), .paced(milliseconds: max(0, delay)))
        case .refusal:
            let chunks = Words.chunks(refusalText)
            return .answer(Reply(body: .refusal, chunks: chunks, truncated: false, outputTokens: chunks.count), .immediate)
        case .toolCall(let name, let arguments):
            let reply = Reply(
                body: .toolCall(id: state.nextID(), name: name, arguments: arguments),
                chunks: Words.fragments(arguments), truncated: false, outputTokens: 1 + Words.count(arguments)
            )
            return .answer(reply, .immediate)
        case .status(let code, let message):
            return .fail(.status(code, message: message))
        case .contextLengthExceeded:
            return .fail(.contextLengthExceeded)
        case .hang:
            return .hang
        case .hangAfterFirstChunk:
            guard conversation.stream else { return .hang }
            return .answer(text("partial", conversation), .hangAfterFirstChunk)
        case .hangAfterDone:
            guard conversation.stream else { return .hang }
            return .answer(text("echo: " + conversation.lastUserText, conversation), .hangAfterDone)
        }
    }

    /// A text reply, cut to the request's output-token limit like a real model would be.
    private static func text(_ text: String, _ conversation: Conversation) -> Reply {
        var chunks = Words.chunks(text)
        var truncated = false
        if let limit = conversation.maxOutputTokens, limit >= 0, Words.count(text) > limit {
            // Every chunk holds exactly one word (the first may also hold leading whitespace).
            chunks = Array(chunks.prefix(limit))
            truncated = true
        }
        return Reply(body: .text, chunks: chunks, truncated: truncated, outputTokens: Words.count(chunks.joined()))
    }
}
