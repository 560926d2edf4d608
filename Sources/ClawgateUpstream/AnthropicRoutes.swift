import ClawgateProtocol
import Foundation
import Hummingbird

/// `POST /v1/messages`: the Anthropic Messages API, a message or its event stream.
enum AnthropicRoutes {
    static func respond(_ exchange: Exchange) async throws(APIError) -> Response {
        let object = try MessageText.object(exchange.body)
        var conversation = Conversation(
            model: try MessageText.requiredString(object, "model"), stream: object["stream"]?.boolValue ?? false
        )
        guard let maxTokens = object["max_tokens"]?.intValue else {
            throw .badRequest("max_tokens: Field required")
        }
        guard let messages = object["messages"]?.arrayValue else {
            throw .badRequest("messages: Field required")
        }
        conversation.maxOutputTokens = maxTokens
        conversation.count(MessageText.of(object["system"]))
        for message in messages { read(message, into: &conversation) }

        let state = exchange.state
        switch ReplyPlan.make(step: state.nextStep(model: conversation.model), conversation: conversation, state: state) {
        case .fail(let failure):
            return APIError.fromAnthropic(failure).response(.anthropic)
        case .hang:
            return await exchange.hang()
        case .answer(let reply, let pacing):
            let meta = Meta(id: "msg_\(state.nextID())", model: conversation.model, inputTokens: conversation.inputWords)
            if conversation.stream {
                return stream(reply, meta: meta).response(pacing, exchange: exchange)
            }
            return await exchange.complete(pacing: pacing, chunks: reply.chunks.count) {
                Exchange.json(message(reply, meta: meta))
            }
        }
    }

    /// A message whose content is a string or blocks: `text` counts (and is the user's text),
    /// `tool_result` content counts and is the last tool result, `tool_use` input does not count.
    static func read(_ message: JSONValue, into conversation: inout Conversation) {
        let isUser = message["role"]?.stringValue == "user"
        guard case .array(let blocks)? = message["content"] else {
            let text = MessageText.of(message["content"])
            conversation.count(text)
            if isUser, !text.isEmpty { conversation.lastUserText = text }
            return
        }
        var texts: [String] = []
        for block in blocks {
            switch block["type"]?.stringValue {
            case "text":
                let text = block["text"]?.stringValue ?? ""
                conversation.count(text)
                texts.append(text)
            case "tool_result":
                let result = MessageText.of(block["content"])
                conversation.count(result)
                conversation.lastToolResult = result
            default:
                break
            }
        }
        let text = texts.joined(separator: "\n")
        if isUser, !text.isEmpty { conversation.lastUserText = text }
    }

    struct Meta {
        var id: String
        var model: String
        var inputTokens: Int
    }

    static func stopReason(_ reply: Reply) -> String {
        switch reply.body {
        case .toolCall: "tool_use"
        case .refusal: "refusal"
        case .text: reply.truncated ? "max_tokens" : "end_turn"
        }
    }

    /// Tool input is the arguments parsed as a JSON object (`{}` if they are not one).
    static func toolInput(_ arguments: String) -> WireJSON {
        guard let value = try? JSONCoding.decode(JSONValue.self, from: Data(arguments.utf8)), value.objectValue != nil else {
            return [:]
        }
        return WireJSON(value)
    }

    static func usage(input: Int, output: Int) -> WireJSON {
        [
            "input_tokens": .int(input), "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
            "output_tokens": .int(output),
        ]
    }

    static func message(_ reply: Reply, meta: Meta) -> WireJSON {
        let block: WireJSON
        if case .toolCall(let id, let name, let arguments) = reply.body {
            block = ["type": "tool_use", "id": .string("toolu_\(id)"), "name": .string(name), "input": toolInput(arguments)]
        } else {
            block = ["type": "text", "text": .string(reply.text)]
        }
        return [
            "id": .string(meta.id), "type": "message", "role": "assistant", "model": .string(meta.model), "content": [block],
            "stop_reason": .string(stopReason(reply)), "stop_sequence": nil,
            "usage": usage(input: meta.inputTokens, output: reply.outputTokens),
        ]
    }

    /// message_start, content_block_start, ping, content_block_delta…, content_block_stop,
    /// message_delta, message_stop — as the API sends them.
    static func stream(_ reply: Reply, meta: Meta) -> SSEStream {
        var sse = SSEStream()
        sse.event(
            "message_start",
            [
                "type": "message_start",
                "message": [
                    "id": .string(meta.id), "type": "message", "role": "assistant", "model": .string(meta.model), "content": [],
                    "stop_reason": nil, "stop_sequence": nil, "usage": usage(input: meta.inputTokens, output: 1),
                ],
            ]
        )
        if case .toolCall(let id, let name, _) = reply.body {
            sse.event(
                "content_block_start",
                [
                    "type": "content_block_start", "index": 0,
                    "content_block": ["type": "tool_use", "id": .string("toolu_\(id)"), "name": .string(name), "input": [:]],
                ]
            )
            sse.event("ping", ["type": "ping"])
            for fragment in reply.chunks {
                sse.event(
                    "content_block_delta",
                    ["type": "content_block_delta", "index": 0, "delta": ["type": "input_json_delta", "partial_json": .string(fragment)]],
                    content: true
                )
            }
        } else {
            sse.event("content_block_start", ["type": "content_block_start", "index": 0, "content_block": ["type": "text", "text": ""]])
            sse.event("ping", ["type": "ping"])
            for piece in reply.chunks {
                sse.event(
                    "content_block_delta",
                    ["type": "content_block_delta", "index": 0, "delta": ["type": "text_delta", "text": .string(piece)]],
                    content: true
                )
            }
        }
        sse.event("content_block_stop", ["type": "content_block_stop", "index": 0])
        sse.event(
            "message_delta",
            [
                "type": "message_delta", "delta": ["stop_reason": .string(stopReason(reply)), "stop_sequence": nil],
                "usage": ["output_tokens": .int(reply.outputTokens)],
            ]
        )
        sse.event("message_stop", ["type": "message_stop"])
        return sse
    }
}
