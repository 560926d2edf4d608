import ClawgateAgents
import ClawgateModels
import ClawgateProtocol
import Foundation
import Hummingbird
import Synchronization

/// `POST /v1/responses` (OpenResponses): `input` as a string or items, `instructions`, client
/// function `tools`, `stream` as the Responses API's named SSE events.
enum ResponsesEndpoint {
    static func handle(_ call: OpenAIRequest) async throws(OpenAIError) -> Response {
        let messages = try parseInput(call.body["input"], instructions: call.body["instructions"]?.stringValue)
        let responseId = "resp_\(RandomID.hex(count: 32))"
        let request = try ChatCompletionsEndpoint.runRequest(
            OpenAIRequest(
                gateway: call.gateway, body: renamed(call.body), headers: call.headers, agent: call.agent, modelOverride: call.modelOverride,
                requestedModel: call.requestedModel
            ),
            messages: messages, runId: responseId
        )
        let run = OpenAIRun(gateway: call.gateway, request: request)
        let created = Int(Date().timeIntervalSince1970)
        let model = call.requestedModel
        guard try call.bool("stream") else {
            let outcome = try await run.outcome()
            guard outcome.status == .ok else {
                throw OpenAIError.model(kind: outcome.errorKind, message: outcome.errorMessage ?? "the run \(outcome.status.rawValue)")
            }
            return ChatCompletionsEndpoint.jsonResponse(response(outcome, id: responseId, created: created, model: model, status: "completed"))
        }
        let events = try run.events()
        let messageId = "msg_\(responseId.dropFirst(5))"
        let sequence = SequenceCounter()
        @Sendable func frame(_ type: String, _ fields: [String: JSONValue]) -> SSEFrame {
            var object = fields
            object["type"] = .string(type)
            object["sequence_number"] = .int(sequence.next())
            return SSEFrame.json(.object(object), event: type)
        }
        let skeleton: JSONValue = [
            "id": .string(responseId), "object": "response", "created_at": .int(created), "status": "in_progress", "model": .string(model),
            "output": [],
        ]
        let render: @Sendable (RunEvent) -> [SSEFrame] = { event in
            switch event {
            case .started:
                return [
                    frame("response.created", ["response": skeleton]),
                    frame("response.in_progress", ["response": skeleton]),
                    frame(
                        "response.output_item.added",
                        ["output_index": 0, "item": ["id": .string(messageId), "type": "message", "role": "assistant", "status": "in_progress", "content": []]]
                    ),
                    frame(
                        "response.content_part.added",
                        ["item_id": .string(messageId), "output_index": 0, "content_index": 0, "part": ["type": "output_text", "text": "", "annotations": []]]
                    ),
                ]
            case .delta(let text, _):
                return [frame("response.output_text.delta", ["item_id": .string(messageId), "output_index": 0, "content_index": 0, "delta": .string(text)])]
            case .finished(let outcome):
                guard outcome.status == .ok else {
                    let error = OpenAIError.model(kind: outcome.errorKind, message: outcome.errorMessage ?? "the run \(outcome.status.rawValue)")
                    var failed = response(outcome, id: responseId, created: created, model: model, status: "failed").objectValue ?? [:]
                    failed["error"] = ["code": .string(error.code ?? "server_error"), "message": .string(error.message)]
                    return [frame("response.failed", ["response": .object(failed)])]
                }
                let textPart: JSONValue = ["type": "output_text", "text": .string(outcome.text), "annotations": []]
                return [
                    frame("response.output_text.done", ["item_id": .string(messageId), "output_index": 0, "content_index": 0, "text": .string(outcome.text)]),
                    frame("response.content_part.done", ["item_id": .string(messageId), "output_index": 0, "content_index": 0, "part": textPart]),
                    frame(
                        "response.output_item.done",
                        ["output_index": 0, "item": ["id": .string(messageId), "type": "message", "role": "assistant", "status": "completed", "content": [textPart]]]
                    ),
                    frame("response.completed", ["response": response(outcome, id: responseId, created: created, model: model, status: "completed")]),
                ]
            default:
                return []
            }
        }
        return OpenAIRun.sse(run: run, events: events, render: render, trailer: [])
    }

    /// `max_output_tokens` is the Responses name of `max_tokens`.
    static func renamed(_ body: [String: JSONValue]) -> [String: JSONValue] {
        var copy = body
        if let value = body["max_output_tokens"] { copy["max_tokens"] = value }
        copy["stop"] = nil
        return copy
    }

    static func response(_ outcome: RunOutcome, id: String, created: Int, model: String, status: String) -> JSONValue {
        var output: [JSONValue] = []
        if !outcome.text.isEmpty || outcome.clientToolCalls.isEmpty {
            output.append([
                "id": .string("msg_\(id.dropFirst(5))"), "type": "message", "role": "assistant", "status": "completed",
                "content": [["type": "output_text", "text": .string(outcome.text), "annotations": []]],
            ])
        }
        for call in outcome.clientToolCalls {
            output.append([
                "id": .string("fc_\(call.id)"), "type": "function_call", "call_id": .string(call.id), "name": .string(call.name),
                "arguments": .string(call.arguments), "status": "completed",
            ])
        }
        return [
            "id": .string(id), "object": "response", "created_at": .int(created), "status": .string(status), "model": .string(model),
            "output": .array(output), "output_text": .string(outcome.text),
            "usage": [
                "input_tokens": .int(outcome.usage.input), "output_tokens": .int(outcome.usage.output), "total_tokens": .int(outcome.usage.total),
            ],
        ]
    }

    /// `input`: a string, or items (messages, `function_call`, `function_call_output`).
    static func parseInput(_ value: JSONValue?, instructions: String?) throws(OpenAIError) -> [ChatMessage] {
        var messages: [ChatMessage] = []
        if let instructions, !instructions.isEmpty { messages.append(ChatMessage(role: .system, text: instructions)) }
        switch value {
        case .some(.string(let text)):
            messages.append(ChatMessage(role: .user, text: text))
        case .some(.array(let items)):
            for (index, item) in items.enumerated() {
                switch item["type"]?.stringValue ?? "message" {
                case "message":
                    let text = try ChatCompletionsEndpoint.contentText(item["content"], path: "input[\(index)].content")
                    switch item["role"]?.stringValue {
                    case "system", "developer": messages.append(ChatMessage(role: .system, text: text))
                    case "user": messages.append(ChatMessage(role: .user, text: text))
                    case "assistant": messages.append(ChatMessage(role: .assistant, text: text))
                    default: throw OpenAIError.invalidRequest("input[\(index)].role must be system, developer, user or assistant")
                    }
                case "function_call":
                    guard let callId = item["call_id"]?.stringValue, let name = item["name"]?.stringValue else {
                        throw OpenAIError.invalidRequest("input[\(index)]: a function_call needs call_id and name")
                    }
                    let call = ToolCall(id: callId, name: name, arguments: item["arguments"]?.stringValue ?? "{}")
                    if let last = messages.last, last.role == .assistant, last.text.isEmpty || !last.toolCalls.isEmpty {
                        messages[messages.count - 1].toolCalls.append(call)
                    } else {
                        messages.append(ChatMessage(role: .assistant, text: "", toolCalls: [call]))
                    }
                case "function_call_output":
                    guard let callId = item["call_id"]?.stringValue else {
                        throw OpenAIError.invalidRequest("input[\(index)]: a function_call_output needs call_id")
                    }
                    let output = item["output"]?.stringValue ?? ""
                    messages.append(ChatMessage(role: .tool, text: output, toolCallId: callId))
                case let other:
                    throw OpenAIError.invalidRequest("input[\(index)]: items of type \"\(other)\" are not supported")
                }
            }
        default:
            throw OpenAIError.invalidRequest("input is required: a string or an array of input items")
        }
        return messages
    }
}

/// The `sequence_number` of Responses stream events.
final class SequenceCounter: Sendable {
    private let value = Mutex(0)
    func next() -> Int {
        value.withLock { value in
            value += 1
            return value
        }
    }
}
