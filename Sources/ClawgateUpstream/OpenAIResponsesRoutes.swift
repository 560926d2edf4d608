import ClawgateProtocol
import Foundation
import Hummingbird

/// `POST /v1/responses`: the OpenAI Responses API, a `response` object or its typed event stream.
enum OpenAIResponsesRoutes {
    static func respond(_ exchange: Exchange) async throws(APIError) -> Response {
        let object = try MessageText.object(exchange.body)
        var conversation = Conversation(
            model: try MessageText.requiredString(object, "model"), stream: object["stream"]?.boolValue ?? false
        )
        let instructions = object["instructions"]?.stringValue
        conversation.count(instructions ?? "")
        switch object["input"] {
        case .string(let text)?:
            conversation.count(text)
            conversation.lastUserText = text
        case .array(let items)?:
            for item in items { read(item, into: &conversation) }
        default:
            throw .badRequest("Missing required parameter: 'input'.", param: "input")
        }
        conversation.maxOutputTokens = object["max_output_tokens"]?.intValue

        let state = exchange.state
        switch ReplyPlan.make(step: state.nextStep(model: conversation.model), conversation: conversation, state: state) {
        case .fail(let failure):
            return APIError.from(failure).response(.openAI)
        case .hang:
            return await exchange.hang()
        case .answer(let reply, let pacing):
            let number = state.nextID()
            let meta = Meta(
                id: "resp_\(number)", itemID: reply.isToolCall ? "fc_\(number)" : "msg_\(number)",
                created: Int(Date().timeIntervalSince1970), model: conversation.model, instructions: instructions,
                tools: object["tools"].map(WireJSON.init) ?? [], inputTokens: conversation.inputWords
            )
            if conversation.stream {
                return stream(reply, meta: meta).response(pacing, exchange: exchange)
            }
            return await exchange.complete(pacing: pacing, chunks: reply.chunks.count) {
                Exchange.json(response(meta, status: status(reply), output: [item(reply, meta: meta, done: true)], reply: reply))
            }
        }
    }

    /// One `input` item: a message (`{role, content}`, with or without `type: "message"`), a
    /// `function_call` (arguments are not counted as input), or a `function_call_output`.
    static func read(_ item: JSONValue, into conversation: inout Conversation) {
        switch item["type"]?.stringValue {
        case nil, "message":
            let text = MessageText.of(item["content"])
            conversation.count(text)
            if item["role"]?.stringValue == "user", !text.isEmpty { conversation.lastUserText = text }
        case "function_call_output":
            let output = MessageText.of(item["output"])
            conversation.count(output)
            conversation.lastToolResult = output
        default:
            break
        }
    }

    struct Meta {
        var id: String
        var itemID: String
        var created: Int
        var model: String
        var instructions: String?
        var tools: WireJSON
        var inputTokens: Int
    }

    static func status(_ reply: Reply) -> String {
        reply.truncated ? "incomplete" : "completed"
    }

    /// The `response` object; `reply == nil` while in progress (no usage yet).
    static func response(_ meta: Meta, status: String, output: [WireJSON], reply: Reply?) -> WireJSON {
        let usage: WireJSON =
            reply.map { reply in
                [
                    "input_tokens": .int(meta.inputTokens), "input_tokens_details": ["cached_tokens": 0],
                    "output_tokens": .int(reply.outputTokens), "output_tokens_details": ["reasoning_tokens": 0],
                    "total_tokens": .int(meta.inputTokens + reply.outputTokens),
                ]
            } ?? nil
        let incomplete: WireJSON = reply?.truncated == true ? ["reason": "max_output_tokens"] : nil
        return [
            "id": .string(meta.id), "object": "response", "created_at": .int(meta.created), "status": .string(status),
            "error": nil, "incomplete_details": incomplete, "instructions": .optional(meta.instructions),
            "model": .string(meta.model), "output": .array(output), "parallel_tool_calls": true, "tool_choice": "auto",
            "tools": meta.tools, "usage": usage,
        ]
    }

    /// The content part of a message item: `output_text`, or `refusal`.
    static func part(_ reply: Reply, text: String) -> WireJSON {
        if case .refusal = reply.body { return ["type": "refusal", "refusal": .string(text)] }
        return ["type": "output_text", "text": .string(text), "annotations": []]
    }

    /// The output item, complete (`done`) or as first announced (empty, in progress).
    static func item(_ reply: Reply, meta: Meta, done: Bool) -> WireJSON {
        let status = done ? Self.status(reply) : "in_progress"
        if case .toolCall(let id, let name, let arguments) = reply.body {
            return [
                "type": "function_call", "id": .string(meta.itemID), "call_id": .string("call_\(id)"), "name": .string(name),
                "arguments": .string(done ? arguments : ""), "status": .string(status),
            ]
        }
        return [
            "type": "message", "id": .string(meta.itemID), "role": "assistant", "status": .string(status),
            "content": done ? [part(reply, text: reply.text)] : [],
        ]
    }

    /// Events in the order the API sends them, each with `type` and a `sequence_number`.
    static func stream(_ reply: Reply, meta: Meta) -> SSEStream {
        var sse = SSEStream()
        var sequence = 0
        func emit(_ type: String, _ fields: [(String, WireJSON)], content: Bool = false) {
            sse.event(type, .object([("type", .string(type)), ("sequence_number", .int(sequence))] + fields), content: content)
            sequence += 1
        }
        let itemID = WireJSON.string(meta.itemID)
        emit("response.created", [("response", response(meta, status: "in_progress", output: [], reply: nil))])
        emit("response.output_item.added", [("output_index", 0), ("item", item(reply, meta: meta, done: false))])
        if case .toolCall(_, _, let arguments) = reply.body {
            for fragment in reply.chunks {
                emit("response.function_call_arguments.delta", [("item_id", itemID), ("output_index", 0), ("delta", .string(fragment))], content: true)
            }
            emit("response.function_call_arguments.done", [("item_id", itemID), ("output_index", 0), ("arguments", .string(arguments))])
        } else {
            let isRefusal = if case .refusal = reply.body { true } else { false }
            let position: [(String, WireJSON)] = [("item_id", itemID), ("output_index", 0), ("content_index", 0)]
            emit("response.content_part.added", position + [("part", part(reply, text: ""))])
            for piece in reply.chunks {
                emit(isRefusal ? "response.refusal.delta" : "response.output_text.delta", position + [("delta", .string(piece))], content: true)
            }
            if isRefusal {
                emit("response.refusal.done", position + [("refusal", .string(reply.text))])
            } else {
                emit("response.output_text.done", position + [("text", .string(reply.text))])
            }
            emit("response.content_part.done", position + [("part", part(reply, text: reply.text))])
        }
        let done = item(reply, meta: meta, done: true)
        emit("response.output_item.done", [("output_index", 0), ("item", done)])
        let final = response(meta, status: status(reply), output: [done], reply: reply)
        emit(reply.truncated ? "response.incomplete" : "response.completed", [("response", final)])
        return sse
    }
}
