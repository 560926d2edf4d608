import ClawgateClient
import ClawgateProtocol
import Foundation

/// How one `chat.send` run ended, as seen in its `chat` events.
struct ChatReply: Sendable, Equatable {
    var runId: String
    /// `ok`, `aborted` or `error`.
    var status: String
    var text: String
    var usage: ChatEventUsage?
    var errorKind: String?
    var errorMessage: String?

    var json: JSONValue {
        var object: [String: JSONValue] = ["runId": .string(runId), "status": .string(status), "text": .string(text)]
        if let usage {
            object["usage"] = ["input": .int(usage.input), "output": .int(usage.output), "totalTokens": .int(usage.totalTokens)]
        }
        if status == "error" {
            object["error"] = ["kind": .string(errorKind ?? "unknown"), "message": .string(errorMessage ?? "the run failed")]
        }
        return .object(object)
    }
}

/// Follows one run's `chat` events (every operator connection sees every run, so events are
/// filtered on `runId`) until its final, aborted or error event.
///
/// Deltas are droppable for a slow client, so text is shown from the cumulative `message`
/// snapshot when it extends what was shown, and the terminal event (never dropped, carrying the
/// whole message) fills in whatever deltas were lost.
struct ChatReplyStream {
    let runId: String
    private(set) var shown = ""

    init(runId: String) {
        self.runId = runId
    }

    /// Reads `events` until the run ends, handing each new piece of text to `show`.
    static func follow(
        _ events: AsyncStream<EventFrame>, runId: String, show: (String) -> Void
    ) async throws -> ChatReply {
        var stream = ChatReplyStream(runId: runId)
        for await event in events {
            if let reply = stream.consume(event, show: show) { return reply }
        }
        try Task.checkCancellation()
        throw GatewayClientError.closed(code: nil, reason: "the connection ended before run \(runId) finished")
    }

    /// Handles one event: the run's result when it ended, else nil.
    mutating func consume(_ event: EventFrame, show: (String) -> Void) -> ChatReply? {
        guard event.event == GatewayEvent.chat, let payload = event.payload,
            let chat = try? JSONCoding.decode(ChatEventPayload.self, from: payload), chat.runId == runId
        else { return nil }
        switch chat.state {
        case "delta":
            let piece: String
            if let cumulative = chat.message?.text, cumulative.hasPrefix(shown) {
                piece = String(cumulative.dropFirst(shown.count))
            } else {
                piece = chat.deltaText ?? ""
            }
            emit(piece, show)
            return nil
        case "final", "aborted", "error":
            let text = chat.message?.text ?? shown
            if text.hasPrefix(shown) {
                emit(String(text.dropFirst(shown.count)), show)
            } else if !text.isEmpty {
                // The shown text was replaced (a retry or fallback restarted the reply).
                emit("\n" + text, show)
            }
            let status = chat.state == "final" ? "ok" : chat.state
            return ChatReply(
                runId: runId, status: status, text: text, usage: chat.usage, errorKind: chat.errorKind, errorMessage: chat.errorMessage
            )
        default:
            return nil
        }
    }

    private mutating func emit(_ piece: String, _ show: (String) -> Void) {
        guard !piece.isEmpty else { return }
        shown += piece
        show(piece)
    }
}
