import ClawgateAgents
import ClawgateModels
import ClawgateProtocol
import Foundation
import HTTPTypes
import Hummingbird

/// `POST /v1/chat/completions`: an agent turn in OpenAI Chat Completions form, streamed as SSE
/// chunks (`data: [DONE]` last) when `stream` is true. Client `tools` pass through: calls to them
/// come back as `tool_calls`, the caller runs them and sends the results in the next request.
enum ChatCompletionsEndpoint {
    static func handle(_ call: OpenAIRequest) async throws(OpenAIError) -> Response {
        let messages = try parseMessages(call.body["messages"])
        let stream = try call.bool("stream")
        let includeUsage = call.body["stream_options"]?["include_usage"]?.boolValue ?? false
        let runId = "chatcmpl-\(RandomID.hex(count: 32))"
        let request = try runRequest(call, messages: messages, runId: runId)
        let run = OpenAIRun(gateway: call.gateway, request: request)
        let created = Int(Date().timeIntervalSince1970)
        let model = call.requestedModel
        if !stream {
            let outcome = try await run.outcome()
            return try completion(outcome, id: runId, created: created, model: model)
        }
        let events = try run.events()
        let base: [String: JSONValue] = [
            "id": .string(runId), "object": "chat.completion.chunk", "created": .int(created), "model": .string(model),
        ]
        @Sendable func chunk(_ delta: JSONValue, finish: String? = nil) -> SSEFrame {
            var object = base
            object["choices"] = [["index": 0, "delta": delta, "finish_reason": finish.map { .string($0) } ?? .null]]
            return SSEFrame.json(.object(object))
        }
        let render: @Sendable (RunEvent) -> [SSEFrame] = { event in
            switch event {
            case .started:
                return [chunk(["role": "assistant", "content": ""])]
            case .delta(let text, _):
                return [chunk(["content": .string(text)])]
            case .finished(let outcome):
                if outcome.status != .ok {
                    let error = outcome.status == .aborted
                        ? OpenAIError(status: .ok, message: "the run was aborted", type: "server_error", code: "aborted")
                        : OpenAIError.model(kind: outcome.errorKind, message: outcome.errorMessage ?? "the run failed")
                    return [SSEFrame.json(error.body)]
                }
                var frames: [SSEFrame] = []
                if !outcome.clientToolCalls.isEmpty {
                    frames.append(chunk(["tool_calls": .array(toolCalls(outcome.clientToolCalls, indexed: true))]))
                }
                frames.append(chunk([:], finish: finishReason(outcome)))
                if includeUsage {
                    var object = base
                    object["choices"] = []
                    object["usage"] = usage(outcome.usage)
                    frames.append(SSEFrame.json(.object(object)))
                }
                return frames
            default:
                return []
            }
        }
        return OpenAIRun.sse(run: run, events: events, render: render, trailer: [.done])
    }

    static func runRequest(_ call: OpenAIRequest, messages: [ChatMessage], runId: String) throws(OpenAIError) -> RunRequest {
        guard messages.contains(where: { $0.role == .user || $0.role == .tool }) else {
            throw OpenAIError.invalidRequest("messages must contain at least one user message")
        }
        let conversation: RunRequest.Conversation
        var extraSystem: String?
        let key: SessionKey
        if let session = try call.sessionKey() {
            key = session
            // The session's transcript is the history: take the system text and the messages
            // after the caller's last assistant turn.
            let system = messages.filter { $0.role == .system }.map(\.text).joined(separator: "\n\n")
            extraSystem = system.isEmpty ? nil : system
            let lastAssistant = messages.lastIndex { $0.role == .assistant } ?? -1
            conversation = .session(newMessages: messages[(lastAssistant + 1)...].filter { $0.role != .system })
        } else {
            key = SessionKey.ephemeral(agentId: call.agent.id, runId: runId)
            conversation = .ephemeral(messages)
        }
        let maxCompletionTokens = try call.int("max_completion_tokens", in: 1...10_000_000)
        let maxTokens = try call.int("max_tokens", in: 1...10_000_000)
        return RunRequest(
            runId: runId, sessionKey: key, conversation: conversation, modelOverride: call.modelOverride, extraSystemPrompt: extraSystem,
            clientTools: try call.tools(), toolChoice: try call.toolChoice(),
            maxTokens: maxCompletionTokens ?? maxTokens,
            temperature: try call.double("temperature", in: 0...2), topP: try call.double("top_p", in: 0...1), stop: try call.stop()
        )
    }

    static func completion(_ outcome: RunOutcome, id: String, created: Int, model: String) throws(OpenAIError) -> Response {
        guard outcome.status == .ok else {
            throw OpenAIError.model(kind: outcome.errorKind, message: outcome.errorMessage ?? "the run \(outcome.status.rawValue)")
        }
        var message: [String: JSONValue] = ["role": "assistant", "content": outcome.text.isEmpty && !outcome.clientToolCalls.isEmpty ? .null : .string(outcome.text)]
        if !outcome.clientToolCalls.isEmpty { message["tool_calls"] = .array(toolCalls(outcome.clientToolCalls, indexed: false)) }
        let body: JSONValue = [
            "id": .string(id), "object": "chat.completion", "created": .int(created), "model": .string(model),
            "choices": [["index": 0, "message": .object(message), "finish_reason": .string(finishReason(outcome))]],
            "usage": usage(outcome.usage),
        ]
        return jsonResponse(body)
    }

    static func finishReason(_ outcome: RunOutcome) -> String {
        if !outcome.clientToolCalls.isEmpty { return "tool_calls" }
        return (outcome.finishReason == .toolCalls ? FinishReason.stop : (outcome.finishReason ?? .stop)).rawValue
    }

    static func toolCalls(_ calls: [ToolCall], indexed: Bool) -> [JSONValue] {
        calls.enumerated().map { index, call in
            var object: [String: JSONValue] = [
                "id": .string(call.id), "type": "function", "function": ["name": .string(call.name), "arguments": .string(call.arguments)],
            ]
            if indexed { object["index"] = .int(index) }
            return .object(object)
        }
    }

    static func usage(_ usage: TokenUsage) -> JSONValue {
        ["prompt_tokens": .int(usage.input), "completion_tokens": .int(usage.output), "total_tokens": .int(usage.total)]
    }

    /// A JSON response: every answer of the OpenAI routes, tools and hooks is built here.
    static func jsonResponse(_ body: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        let data = (try? JSONCoding.encode(body)) ?? Data("{}".utf8)
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(data: data)))
    }

    /// OpenAI `messages` → provider-neutral messages.
    static func parseMessages(_ value: JSONValue?) throws(OpenAIError) -> [ChatMessage] {
        guard let items = value?.arrayValue, !items.isEmpty else {
            throw OpenAIError.invalidRequest("messages is required: a non-empty array", code: "missing_messages")
        }
        var result: [ChatMessage] = []
        for (index, item) in items.enumerated() {
            guard let role = item["role"]?.stringValue else { throw OpenAIError.invalidRequest("messages[\(index)].role is required") }
            let text = try contentText(item["content"], path: "messages[\(index)].content")
            switch role {
            case "system", "developer":
                result.append(ChatMessage(role: .system, text: text))
            case "user":
                result.append(ChatMessage(role: .user, text: text))
            case "assistant":
                var calls: [ToolCall] = []
                for (callIndex, call) in (item["tool_calls"]?.arrayValue ?? []).enumerated() {
                    guard let id = call["id"]?.stringValue, let name = call["function"]?["name"]?.stringValue else {
                        throw OpenAIError.invalidRequest("messages[\(index)].tool_calls[\(callIndex)] needs id and function.name")
                    }
                    calls.append(ToolCall(id: id, name: name, arguments: call["function"]?["arguments"]?.stringValue ?? "{}"))
                }
                result.append(ChatMessage(role: .assistant, text: text, toolCalls: calls))
            case "tool", "function":
                guard let callId = item["tool_call_id"]?.stringValue ?? item["name"]?.stringValue else {
                    throw OpenAIError.invalidRequest("messages[\(index)].tool_call_id is required for a tool message")
                }
                result.append(ChatMessage(role: .tool, text: text, toolCallId: callId, name: item["name"]?.stringValue))
            default:
                throw OpenAIError.invalidRequest("messages[\(index)].role must be system, developer, user, assistant or tool, got \"\(role)\"")
            }
        }
        return result
    }

    /// A string, or an array of text parts (`text`, `input_text`, `output_text`); images are refused.
    static func contentText(_ value: JSONValue?, path: String) throws(OpenAIError) -> String {
        switch value {
        case .none, .some(.null): return ""
        case .some(.string(let text)): return text
        case .some(.array(let parts)):
            var text = ""
            for (index, part) in parts.enumerated() {
                let type = part["type"]?.stringValue ?? "text"
                guard ["text", "input_text", "output_text"].contains(type) else {
                    throw OpenAIError.invalidRequest("\(path)[\(index)]: content of type \"\(type)\" is not supported (text only)")
                }
                text += part["text"]?.stringValue ?? ""
            }
            return text
        default:
            throw OpenAIError.invalidRequest("\(path) must be a string or an array of content parts")
        }
    }
}
