import ClawgateProtocol
import Foundation
import Hummingbird

/// `POST /v1/chat/completions`: the OpenAI Chat Completions wire format, plain and streamed.
enum OpenAIChatRoutes {
    static func respond(_ exchange: Exchange) async throws(APIError) -> Response {
        let object = try MessageText.object(exchange.body)
        var conversation = Conversation(
            model: try MessageText.requiredString(object, "model"), stream: object["stream"]?.boolValue ?? false
        )
        guard let messages = object["messages"]?.arrayValue else {
            throw .badRequest("Missing required parameter: 'messages'.", param: "messages")
        }
        for message in messages {
            let text = MessageText.of(message["content"])
            conversation.count(text)
            switch message["role"]?.stringValue {
            case "user" where !text.isEmpty: conversation.lastUserText = text
            case "tool", "function": conversation.lastToolResult = text
            default: break
            }
        }
        conversation.maxOutputTokens = object["max_completion_tokens"]?.intValue ?? object["max_tokens"]?.intValue
        let includeUsage = object["stream_options"]?["include_usage"]?.boolValue ?? false

        let state = exchange.state
        switch ReplyPlan.make(step: state.nextStep(model: conversation.model), conversation: conversation, state: state) {
        case .fail(let failure):
            return APIError.from(failure).response(.openAI)
        case .hang:
            return await exchange.hang()
        case .answer(let reply, let pacing):
            let meta = Meta(
                id: "chatcmpl-\(state.nextID())", created: Int(Date().timeIntervalSince1970), model: conversation.model,
                promptTokens: conversation.inputWords
            )
            if conversation.stream {
                return stream(reply, meta: meta, includeUsage: includeUsage).response(pacing, exchange: exchange)
            }
            return await exchange.complete(pacing: pacing, chunks: reply.chunks.count) {
                Exchange.json(completion(reply, meta: meta))
            }
        }
    }

    struct Meta {
        var id: String
        var created: Int
        var model: String
        var promptTokens: Int
    }

    static func finishReason(_ reply: Reply) -> String {
        switch reply.body {
        case .toolCall: "tool_calls"
        case .refusal: "content_filter"
        case .text: reply.truncated ? "length" : "stop"
        }
    }

    static func usage(_ reply: Reply, _ meta: Meta) -> WireJSON {
        [
            "prompt_tokens": .int(meta.promptTokens), "completion_tokens": .int(reply.outputTokens),
            "total_tokens": .int(meta.promptTokens + reply.outputTokens),
        ]
    }

    static func completion(_ reply: Reply, meta: Meta) -> WireJSON {
        let message: WireJSON
        switch reply.body {
        case .text:
            message = ["role": "assistant", "content": .string(reply.text), "refusal": nil]
        case .refusal:
            message = ["role": "assistant", "content": nil, "refusal": .string(reply.text)]
        case .toolCall(let id, let name, let arguments):
            message = [
                "role": "assistant", "content": nil, "refusal": nil,
                "tool_calls": [
                    ["id": .string("call_\(id)"), "type": "function", "function": ["name": .string(name), "arguments": .string(arguments)]]
                ],
            ]
        }
        return [
            "id": .string(meta.id), "object": "chat.completion", "created": .int(meta.created), "model": .string(meta.model),
            "choices": [["index": 0, "message": message, "logprobs": nil, "finish_reason": .string(finishReason(reply))]],
            "usage": usage(reply, meta),
        ]
    }

    /// Chunks as OpenAI streams them: a role delta, content (or tool-call) deltas, a delta with
    /// the finish reason, the usage chunk when `stream_options.include_usage` asked for it, `[DONE]`.
    static func stream(_ reply: Reply, meta: Meta, includeUsage: Bool) -> SSEStream {
        var sse = SSEStream()
        func chunk(_ delta: WireJSON, finishReason: String? = nil) -> WireJSON {
            var members: [(String, WireJSON)] = [
                ("id", .string(meta.id)), ("object", "chat.completion.chunk"), ("created", .int(meta.created)),
                ("model", .string(meta.model)),
                ("choices", [["index": 0, "delta": delta, "logprobs": nil, "finish_reason": .optional(finishReason)]]),
            ]
            if includeUsage { members.append(("usage", nil)) }
            return .object(members)
        }
        switch reply.body {
        case .text:
            sse.data(chunk(["role": "assistant", "content": "", "refusal": nil]))
            for piece in reply.chunks { sse.data(chunk(["content": .string(piece)]), content: true) }
        case .refusal:
            sse.data(chunk(["role": "assistant", "content": "", "refusal": nil]))
            for piece in reply.chunks { sse.data(chunk(["refusal": .string(piece)]), content: true) }
        case .toolCall(let id, let name, _):
            let header: WireJSON = [
                "index": 0, "id": .string("call_\(id)"), "type": "function", "function": ["name": .string(name), "arguments": ""],
            ]
            sse.data(chunk(["role": "assistant", "content": nil, "refusal": nil, "tool_calls": [header]]))
            for fragment in reply.chunks {
                sse.data(chunk(["tool_calls": [["index": 0, "function": ["arguments": .string(fragment)]]]]), content: true)
            }
        }
        sse.data(chunk([:], finishReason: finishReason(reply)))
        if includeUsage {
            sse.data([
                "id": .string(meta.id), "object": "chat.completion.chunk", "created": .int(meta.created), "model": .string(meta.model),
                "choices": [], "usage": usage(reply, meta),
            ])
        }
        sse.done()
        return sse
    }
}
