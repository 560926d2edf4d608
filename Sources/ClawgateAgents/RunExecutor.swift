import ClawgateModels
import ClawgateProtocol
import Foundation
import Logging

/// Executes one run: builds the prompt from the agent, the session history and the new
/// messages, streams the model's answer, runs built-in tool calls and feeds their results back
/// (the tool loop), and records everything in the transcript as it happens — a run that is
/// aborted or crashes leaves what was said so far on disk.
struct RunExecutor: Sendable {
    let agent: AgentDefinition
    let request: RunRequest
    let router: ModelRouter
    let sessions: SessionStore
    let tools: ToolRegistry
    let limits: RunLimits
    let remoteTurn: @Sendable (RemoteTurn) async throws -> String
    let logger: Logger
    let emit: @Sendable (RunEvent) -> Void

    /// Mutable progress of the run, kept outside the `run()` frames so an abort can still
    /// report the partial text.
    final class Progress: @unchecked Sendable {
        // Only touched from the run's own task (sequentially), then read after it ended.
        var text = ""
        var usage = TokenUsage.zero
        /// Usage not yet added to the session's counters.
        var unrecordedUsage = TokenUsage.zero
        var model: ModelRef?
        var finishReason: FinishReason?
        var clientToolCalls: [ToolCall] = []
        var pendingAssistantText = ""
    }

    var persists: Bool {
        if case .session = request.conversation { return true }
        return false
    }

    func run(progress: Progress, sessionEntry: SessionEntry?) async throws {
        var conversation = try await initialConversation(sessionEntry: sessionEntry)
        if agent.isRemote {
            try await runRemote(conversation: conversation, progress: progress)
            return
        }
        let candidates = try modelCandidates(sessionEntry: sessionEntry)
        let builtin = request.useBuiltinTools ? tools.available(to: agent.tools) : []
        let clientNames = Set(request.clientTools.map(\.name))
        let offered = builtin.filter { !clientNames.contains($0.name) }.map(\.definition) + request.clientTools
        var round = 0
        while true {
            round += 1
            try Task.checkCancellation()
            let chat = ChatRequest(
                model: "", messages: conversation, tools: offered, toolChoice: offered.isEmpty ? nil : request.toolChoice,
                maxTokens: request.maxTokens, temperature: request.temperature, topP: request.topP, stop: request.stop
            )
            var turnText = ""
            var calls: [ToolCall] = []
            var finish: FinishReason = .stop
            for try await event in router.streamChat(candidates: candidates, request: chat) {
                switch event {
                case .started(let ref, let attempt):
                    progress.model = ref
                    emit(.modelAttempt(ref, attempt: attempt))
                case .retrying(let ref, let error, let delay):
                    emit(.retrying(ref, error: error, delayMs: delay))
                case .fallingBack(let from, let to, let error):
                    emit(.fallingBack(from: from, to: to, error: error))
                case .chunk(.textDelta(let delta)):
                    guard !delta.isEmpty else { continue }
                    turnText += delta
                    progress.pendingAssistantText = turnText
                    progress.text += delta
                    emit(.delta(text: delta, cumulative: progress.text))
                case .chunk(.toolCall(let call)):
                    calls.append(call)
                case .chunk(.usage(let usage)):
                    progress.usage = progress.usage + usage
                    progress.unrecordedUsage = progress.unrecordedUsage + usage
                case .chunk(.finish(let reason)):
                    finish = reason
                }
            }
            // The stream ended normally, also after a cancellation that raced with its end.
            try Task.checkCancellation()
            progress.finishReason = finish
            progress.pendingAssistantText = ""
            try await record([assistantMessage(text: turnText, calls: calls, stopReason: Self.stopReason(finish))], progress: progress)
            conversation.append(ChatMessage(role: .assistant, text: turnText, toolCalls: calls))
            guard !calls.isEmpty else { return }

            let clientCalls = calls.filter { clientNames.contains($0.name) }
            if !clientCalls.isEmpty {
                // The caller runs these; the run ends here with the calls as its result.
                progress.clientToolCalls = clientCalls
                progress.finishReason = .toolCalls
                return
            }
            guard round < limits.maxToolRounds else {
                throw AgentError(.unavailable, "the tool loop stopped after \(limits.maxToolRounds) rounds without a final answer")
            }
            for call in calls {
                try Task.checkCancellation()
                emit(.toolStarted(call))
                let (result, isError) = await invoke(call)
                emit(.toolFinished(call, result: result, isError: isError))
                var message = TranscriptMessage(role: .toolResult, text: result, timestamp: Self.nowMs())
                message.toolCallId = call.id
                message.toolName = call.name
                message.isError = isError
                try await record([message], progress: nil)
                conversation.append(ChatMessage(role: .tool, text: result, toolCallId: call.id, name: call.name))
            }
        }
    }

    /// A remote agent's turn: the newest user message goes to the agent (as a mesh task), its
    /// reply comes back as the assistant's answer.
    private func runRemote(conversation: [ChatMessage], progress: Progress) async throws {
        let message = conversation.last { $0.role == .user }?.text ?? ""
        let reply = try await remoteTurn(
            RemoteTurn(agentId: agent.id, sessionKey: request.sessionKey.raw, runId: request.runId, message: message)
        )
        try Task.checkCancellation()
        progress.text = reply
        progress.finishReason = .stop
        if !reply.isEmpty { emit(.delta(text: reply, cumulative: reply)) }
        try await record([assistantMessage(text: reply, calls: [], stopReason: "stop")], progress: progress)
    }

    /// Writes the partial answer of an interrupted run, so the transcript shows what was said.
    func recordInterrupted(progress: Progress, stopReason: String, error: String?) async {
        guard persists else { return }
        var message = assistantMessage(text: progress.pendingAssistantText, calls: [], stopReason: stopReason)
        message.errorMessage = error
        do {
            try await sessions.append([message], to: request.sessionKey, model: nil, aborted: stopReason == "aborted", nowMs: Self.nowMs())
        } catch {
            logger.error("cannot record the end of an interrupted run", metadata: ["runId": "\(request.runId)", "error": "\(error)"])
        }
    }

    // MARK: parts

    private func initialConversation(sessionEntry: SessionEntry?) async throws -> [ChatMessage] {
        var messages: [ChatMessage] = []
        let system = [agent.systemPrompt, request.extraSystemPrompt].compactMap { $0 }.filter { !$0.isEmpty }
        if !system.isEmpty { messages.append(ChatMessage(role: .system, text: system.joined(separator: "\n\n"))) }
        switch request.conversation {
        case .ephemeral(let given):
            messages += given
        case .session(let newMessages):
            let history = try await sessions.messages(request.sessionKey).messages.suffix(limits.historyLimit)
            messages += Self.chatMessages(from: Array(history))
            messages += newMessages
            let stored = newMessages.compactMap(Self.transcriptMessage(from:))
            if !stored.isEmpty {
                try await sessions.append(stored, to: request.sessionKey, nowMs: Self.nowMs())
            }
        }
        return messages
    }

    private func modelCandidates(sessionEntry: SessionEntry?) throws -> [ModelRef] {
        if let override = request.modelOverride, !override.isEmpty { return override }
        if let entry = sessionEntry, let model = entry.modelOverride {
            if let ref = ModelRef(parsing: model) { return [ref] + agent.models.filter { $0 != ref } }
            if let provider = entry.providerOverride { return [ModelRef(provider: provider, model: model)] }
        }
        guard !agent.models.isEmpty else {
            throw AgentError(
                .unavailable,
                "agent \"\(agent.id)\" has no model: set agents.defaults.model or agents.list[].model to \"provider/model\" (a models.providers entry)"
            )
        }
        return agent.models
    }

    private func invoke(_ call: ToolCall) async -> (String, Bool) {
        guard let tool = tools.tool(call.name), agent.tools.permits(call.name) else {
            return ("unknown tool \(call.name)", true)
        }
        let arguments: JSONValue
        if call.arguments.trimmingCharacters(in: .whitespaces).isEmpty {
            arguments = .object([:])
        } else if let parsed = try? JSONCoding.decode(JSONValue.self, from: Data(call.arguments.utf8)) {
            arguments = parsed
        } else {
            return ("the arguments are not valid JSON: \(call.arguments.prefix(200))", true)
        }
        do {
            let result = try await tool.invoke(
                arguments: arguments, context: ToolContext(agentId: agent.id, sessionKey: request.sessionKey.raw, runId: request.runId)
            )
            if case .string(let text) = result { return (text, false) }
            return (String(decoding: try JSONCoding.encode(result, sortedKeys: true), as: UTF8.self), false)
        } catch let error as ToolError {
            return (error.message, true)
        } catch is CancellationError {
            return ("canceled", true)
        } catch {
            return ("\(error)", true)
        }
    }

    private func record(_ messages: [TranscriptMessage], progress: Progress?) async throws {
        guard persists else { return }
        try await sessions.append(
            messages, to: request.sessionKey, usage: progress?.unrecordedUsage,
            model: progress?.model.map { ($0.provider, $0.model) }, aborted: progress == nil ? nil : false, nowMs: Self.nowMs()
        )
        progress?.unrecordedUsage = .zero
    }

    private func assistantMessage(text: String, calls: [ToolCall], stopReason: String) -> TranscriptMessage {
        var blocks: [TranscriptMessage.Block] = text.isEmpty ? [] : [.text(text)]
        for call in calls {
            let arguments = (try? JSONCoding.decode(JSONValue.self, from: Data(call.arguments.utf8))) ?? .string(call.arguments)
            blocks.append(.toolCall(id: call.id, name: call.name, arguments: arguments))
        }
        var message = TranscriptMessage(role: .assistant, content: blocks, timestamp: Self.nowMs())
        message.stopReason = stopReason
        return message
    }

    static func stopReason(_ finish: FinishReason) -> String {
        switch finish {
        case .stop: "stop"
        case .length: "length"
        case .toolCalls: "toolUse"
        case .contentFilter: "refusal"
        }
    }

    /// Transcript → provider-neutral messages (tool calls and results included).
    static func chatMessages(from transcript: [TranscriptMessage]) -> [ChatMessage] {
        transcript.map { message in
            switch message.role {
            case .user:
                return ChatMessage(role: .user, text: message.text)
            case .assistant:
                let calls = message.toolCalls.map { call in
                    let arguments: String
                    if case .string(let text) = call.arguments {
                        arguments = text
                    } else {
                        arguments = (try? JSONCoding.encode(call.arguments, sortedKeys: true)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
                    }
                    return ToolCall(id: call.id, name: call.name, arguments: arguments)
                }
                return ChatMessage(role: .assistant, text: message.text, toolCalls: calls)
            case .toolResult:
                return ChatMessage(role: .tool, text: message.text, toolCallId: message.toolCallId, name: message.toolName)
            }
        }
    }

    static func transcriptMessage(from message: ChatMessage) -> TranscriptMessage? {
        switch message.role {
        case .user:
            return TranscriptMessage(role: .user, text: message.text, timestamp: nowMs())
        case .tool:
            var result = TranscriptMessage(role: .toolResult, text: message.text, timestamp: nowMs())
            result.toolCallId = message.toolCallId
            result.toolName = message.name
            result.isError = false
            return result
        case .system, .assistant:
            return nil
        }
    }

    static func nowMs() -> Int { Int((Date().timeIntervalSince1970 * 1000).rounded()) }
}

/// Bounds on runs.
public struct RunLimits: Sendable, Hashable {
    /// Model turns per run when the model keeps calling tools.
    public var maxToolRounds: Int
    /// Transcript messages sent as history.
    public var historyLimit: Int
    /// How long finished runs stay known to `agent.wait` and idempotent repeats.
    public var retentionMs: Int
    /// Most finished runs remembered.
    public var maxRetainedRuns: Int

    public init(maxToolRounds: Int = 8, historyLimit: Int = 200, retentionMs: Int = 300_000, maxRetainedRuns: Int = 1_000) {
        self.maxToolRounds = maxToolRounds
        self.historyLimit = historyLimit
        self.retentionMs = retentionMs
        self.maxRetainedRuns = maxRetainedRuns
    }
}
