import ClawgateAgents
import ClawgateModels
import ClawgateProtocol
import Foundation
import Synchronization

/// Turns one run's `RunEvent`s into the protocol's `chat` and `agent` events for every
/// operator connection (as OpenClaw does: any UI watching a session sees its runs), with a
/// per-run `seq` for each event family. Tool activity goes only to clients that declared the
/// `tool-events` capability. Deltas may be dropped for a slow client; the final never is, and
/// it carries the whole message.
final class RunEventBroadcaster: Sendable {
    private let registry: ConnectionRegistry
    private let counters = Mutex((chat: 0, agent: 0))
    private let runId: String
    private let sessionKey: String
    private let agentId: String
    /// Called with the outcome after the final events went out (the `agent` method's second answer).
    private let onFinish: @Sendable (RunOutcome) -> Void

    init(registry: ConnectionRegistry, runId: String, sessionKey: SessionKey, onFinish: @escaping @Sendable (RunOutcome) -> Void = { _ in }) {
        self.registry = registry
        self.runId = runId
        self.sessionKey = sessionKey.raw
        self.agentId = sessionKey.agentId
        self.onFinish = onFinish
    }

    func handle(_ event: RunEvent) {
        let now = Clock.nowMs()
        switch event {
        case .started(let info):
            agent(stream: "lifecycle", data: ["phase": "start", "startedAt": .int(info.startedAt)], droppable: false)
        case .delta(let text, let cumulative):
            agent(stream: "assistant", data: ["delta": .string(text), "text": .string(cumulative)], droppable: true)
            var payload = chatPayload(state: "delta")
            payload.deltaText = text
            payload.message = ChatEventMessage(text: cumulative, timestamp: now)
            chat(payload, droppable: true)
        case .toolStarted(let call):
            agent(
                stream: "tool", data: ["phase": "start", "toolCallId": .string(call.id), "name": .string(call.name), "args": .string(call.arguments)],
                droppable: false, requiredCap: "tool-events"
            )
        case .toolFinished(let call, let result, let isError):
            agent(
                stream: "tool",
                data: [
                    "phase": "result", "toolCallId": .string(call.id), "name": .string(call.name), "result": .string(result),
                    "isError": .bool(isError),
                ],
                droppable: false, requiredCap: "tool-events"
            )
        case .modelAttempt, .retrying, .fallingBack:
            break
        case .finished(let outcome):
            finish(outcome, now: now)
            onFinish(outcome)
        }
    }

    private func finish(_ outcome: RunOutcome, now: Int) {
        var payload: ChatEventPayload
        switch outcome.status {
        case .ok:
            payload = chatPayload(state: "final")
            payload.stopReason = outcome.finishReason.map(Self.stopReason) ?? "stop"
            agent(stream: "lifecycle", data: ["phase": "end", "endedAt": .int(outcome.endedAt)], droppable: false)
        case .aborted:
            payload = chatPayload(state: "aborted")
            payload.stopReason = "aborted"
            agent(stream: "lifecycle", data: ["phase": "end", "aborted": true, "endedAt": .int(outcome.endedAt)], droppable: false)
        case .error, .timeout:
            payload = chatPayload(state: "error")
            payload.errorMessage = outcome.errorMessage
            payload.errorKind = (outcome.errorKind ?? (outcome.status == .timeout ? .timeout : .unknown)).rawValue
            payload.errorDetail = outcome.errorDetail.map(Self.detail)
            agent(
                stream: "lifecycle",
                data: ["phase": "error", "error": .string(outcome.errorMessage ?? "the run failed"), "endedAt": .int(outcome.endedAt)],
                droppable: false
            )
        }
        payload.message = ChatEventMessage(text: outcome.text, timestamp: now)
        if outcome.usage != .zero { payload.usage = ChatEventUsage(input: outcome.usage.input, output: outcome.usage.output) }
        chat(payload, droppable: false)
    }

    static func stopReason(_ reason: FinishReason) -> String {
        switch reason {
        case .stop: "stop"
        case .length: "max_tokens"
        case .toolCalls: "tool_use"
        case .contentFilter: "refusal"
        }
    }

    static func detail(_ error: ModelError) -> JSONValue {
        var detail: [String: JSONValue] = ["provider": .string(error.provider), "model": .string(error.model)]
        if let status = error.httpStatus { detail["httpStatus"] = .int(status) }
        return .object(detail)
    }

    private func chatPayload(state: String) -> ChatEventPayload {
        let seq = counters.withLock { counters -> Int in
            counters.chat += 1
            return counters.chat
        }
        return ChatEventPayload(runId: runId, sessionKey: sessionKey, seq: seq, state: state, agentId: agentId)
    }

    private func chat(_ payload: ChatEventPayload, droppable: Bool) {
        registry.broadcast(event: GatewayEvent.chat, payload: payload, droppable: droppable, requiredScope: OperatorScope.read)
    }

    private func agent(stream: String, data: [String: JSONValue], droppable: Bool, requiredCap: String? = nil) {
        let seq = counters.withLock { counters -> Int in
            counters.agent += 1
            return counters.agent
        }
        let payload = AgentEventPayload(runId: runId, seq: seq, stream: stream, ts: Clock.nowMs(), data: .object(data), sessionKey: sessionKey)
        registry.broadcast(
            event: GatewayEvent.agent, payload: payload, droppable: droppable, requiredScope: OperatorScope.read, requiredCap: requiredCap
        )
    }
}
