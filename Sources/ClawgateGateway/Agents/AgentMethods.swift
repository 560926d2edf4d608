import ClawgateAgents
import ClawgateModels
import ClawgateProtocol
import Foundation
import NIOCore

/// The hosted-agent methods: `agents.list`, `agent.identity.get`, `models.list`, `chat.*`,
/// `agent`, `agent.wait`, `wake`. Session methods are in `SessionMethods`.
enum AgentMethods {
    static func register(into table: inout MethodTable) {
        table.register("agents.list", EmptyParams.self) { _, context in
            let agents = context.gateway.agents
            let catalog = agents.catalog
            return [
                "defaultId": .string(catalog.defaultId), "mainKey": .string(catalog.mainKey), "scope": "per-sender",
                "agents": .array(catalog.agents.map(agentRow)),
            ] as JSONValue
        }
        table.register("agent.identity.get", AgentIdentityParams.self) { params, context in
            let agents = context.gateway.agents
            var agentId = params.agentId ?? agents.catalog.defaultId
            if let key = params.sessionKey { agentId = try agents.sessionKey(key).agentId }
            guard let agent = agents.catalog.agent(agentId) else { throw MethodError.invalidRequest("unknown agent \"\(agentId)\"") }
            var result: [String: JSONValue] = ["agentId": .string(agent.id)]
            if let name = agent.identity.name ?? agent.name { result["name"] = .string(name) }
            if let emoji = agent.identity.emoji { result["emoji"] = .string(emoji) }
            if let avatar = agent.identity.avatar { result["avatar"] = .string(avatar) }
            return JSONValue.object(result)
        }
        table.register("models.list", ModelsListParams.self) { params, context in
            if let view = params.view, !["default", "configured", "all"].contains(view) {
                throw MethodError.invalidRequest("invalid models.list params: view must be one of default, configured, all")
            }
            let rows: [JSONValue] = context.gateway.agents.modelRows.map { row in
                var model: [String: JSONValue] = [
                    "id": .string(row.ref.model), "name": .string(row.definition.name ?? row.ref.model), "provider": .string(row.ref.provider),
                ]
                if let window = row.definition.contextWindow { model["contextWindow"] = .int(window) }
                if let maxTokens = row.definition.maxTokens { model["maxTokens"] = .int(maxTokens) }
                return .object(model)
            }
            return ["models": .array(rows)] as JSONValue
        }
        table.register("chat.send", ChatSendParams.self) { params, context in
            let agents = context.gateway.agents
            try requireKey(params.idempotencyKey, "chat.send")
            if let attachments = params.attachments, !attachments.isEmpty {
                throw MethodError.invalidRequest("invalid chat.send params: attachments are not supported by this gateway")
            }
            try checkTimeout(params.timeoutMs, "chat.send")
            let key = try agents.sessionKey(params.sessionKey)
            let request = RunRequest(
                runId: params.idempotencyKey, sessionKey: key, conversation: .session(newMessages: [ChatMessage(role: .user, text: params.message)]),
                timeoutMs: params.timeoutMs
            )
            let broadcaster = RunEventBroadcaster(registry: context.gateway.registry, runId: request.runId, sessionKey: key)
            switch try submit(request, agents: agents, observer: broadcaster.handle) {
            case .inFlight(let runId): return ["runId": .string(runId), "status": "in_flight"] as JSONValue
            case .started(let info): return ["runId": .string(info.runId), "status": "started"] as JSONValue
            case .finished(let outcome): return ["runId": .string(outcome.runId), "status": "started"] as JSONValue
            }
        }
        table.register("chat.history", ChatHistoryParams.self) { params, context in
            let agents = context.gateway.agents
            let key = try agents.sessionKey(params.sessionKey)
            let limit = params.limit ?? 200
            guard (1...1000).contains(limit) else { throw MethodError.invalidRequest("invalid chat.history params: limit must be from 1 to 1000") }
            if let maxChars = params.maxChars, maxChars < 1 {
                throw MethodError.invalidRequest("invalid chat.history params: maxChars must be at least 1")
            }
            let entry = try await mapped { try await agents.sessions.entry(key) }
            let contents = try await mapped { try await agents.sessions.messages(key) }
            let all = contents.messages
            let window = all.suffix(limit)
            var messages: [JSONValue] = []
            for (offset, message) in window.enumerated() {
                var row = try JSONCoding.value(of: message.truncated(to: params.maxChars)).objectValue ?? [:]
                row["__openclaw"] = ["seq": .int(all.count - window.count + offset + 1)]
                messages.append(.object(row))
            }
            var result: [String: JSONValue] = [
                "sessionKey": .string(key.raw), "messages": .array(messages), "totalMessages": .int(all.count),
                "hasMore": .bool(all.count > window.count),
            ]
            if let entry { result["sessionId"] = .string(entry.sessionId) }
            return JSONValue.object(result)
        }
        table.register("chat.abort", ChatAbortParams.self) { params, context in
            let key = try context.gateway.agents.sessionKey(params.sessionKey)
            let stopped = context.gateway.agents.runtime.abort(sessionKey: key.raw, runId: params.runId)
            return ["ok": true, "aborted": .bool(!stopped.isEmpty), "runIds": .array(stopped.map { .string($0) })] as JSONValue
        }
        table.register("chat.inject", ChatInjectParams.self) { params, context in
            let agents = context.gateway.agents
            let key = try agents.sessionKey(params.sessionKey)
            guard !params.message.isEmpty else { throw MethodError.invalidRequest("invalid chat.inject params: message must not be empty") }
            let now = Clock.nowMs()
            var note = TranscriptMessage(role: .assistant, text: params.message, timestamp: now)
            note.stopReason = "injected"
            _ = try await mapped { try await agents.sessions.append([note], to: key, label: params.label, nowMs: now) }
            let runId = params.idempotencyKey ?? "inject-\(RandomID.uuid())"
            var payload = ChatEventPayload(runId: runId, sessionKey: key.raw, seq: 1, state: "final", agentId: key.agentId)
            payload.message = ChatEventMessage(text: params.message, timestamp: now)
            payload.stopReason = "injected"
            context.gateway.registry.broadcast(event: GatewayEvent.chat, payload: payload, droppable: false, requiredScope: OperatorScope.read)
            return ["ok": true, "runId": .string(runId)] as JSONValue
        }
        table.register("agent", AgentParams.self) { params, context in
            try await startAgent(params, context: context)
        }
        table.registerDeferred("agent.wait", AgentWaitParams.self) { params, context in
            let timeout = params.timeoutMs ?? 30_000
            guard (0...86_400_000).contains(timeout) else {
                throw MethodError.invalidRequest("invalid agent.wait params: timeoutMs must be from 0 to 86400000")
            }
            let runtime = context.gateway.agents.runtime
            guard runtime.isKnown(runId: params.runId) else {
                throw MethodError.invalidRequest("unknown runId \(params.runId) (finished runs are remembered for 5 minutes)")
            }
            guard let outcome = await runtime.wait(runId: params.runId, timeoutMs: timeout) else {
                return ["runId": .string(params.runId), "status": "timeout"] as JSONValue
            }
            var result: [String: JSONValue] = [
                "runId": .string(outcome.runId), "status": .string(outcome.status == .ok ? "ok" : (outcome.status == .timeout ? "timeout" : "error")),
                "startedAt": .int(outcome.startedAt), "endedAt": .int(outcome.endedAt),
            ]
            if outcome.status == .aborted { result["error"] = "aborted" }
            if let message = outcome.errorMessage { result["error"] = .string(message) }
            return JSONValue.object(result)
        }
        table.register("wake", WakeParams.self) { params, context in
            guard ["now", "next-heartbeat"].contains(params.mode) else {
                throw MethodError.invalidRequest("invalid wake params: mode must be \"now\" or \"next-heartbeat\"")
            }
            guard !params.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw MethodError.invalidRequest("invalid wake params: text must not be empty")
            }
            let agents = context.gateway.agents
            let key = try agents.sessionKey(params.sessionKey ?? "main")
            let text = "System: \(params.text)"
            if params.mode == "now" {
                let runId = "wake-\(RandomID.uuid())"
                let request = RunRequest(runId: runId, sessionKey: key, conversation: .session(newMessages: [ChatMessage(role: .user, text: text)]))
                let broadcaster = RunEventBroadcaster(registry: context.gateway.registry, runId: runId, sessionKey: key)
                _ = try submit(request, agents: agents, observer: broadcaster.handle)
                return ["ok": true, "mode": "now", "runId": .string(runId)] as JSONValue
            }
            // No heartbeat runner here: the event waits in the transcript for the session's next run.
            let now = Clock.nowMs()
            _ = try await mapped {
                try await agents.sessions.append([TranscriptMessage(role: .user, text: text, timestamp: now)], to: key, nowMs: now)
            }
            return ["ok": true, "mode": "next-heartbeat"] as JSONValue
        }
    }

    // MARK: agent (two answers on one request id)

    static func startAgent(_ params: AgentParams, context: MethodContext) async throws -> JSONValue {
        let agents = context.gateway.agents
        try requireKey(params.idempotencyKey, "agent")
        guard !params.message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw MethodError.invalidRequest("invalid agent params: message must not be empty")
        }
        if let attachments = params.attachments, !attachments.isEmpty {
            throw MethodError.invalidRequest("invalid agent params: attachments are not supported by this gateway")
        }
        try checkTimeout(params.timeout, "agent")
        let key: SessionKey
        if let raw = params.sessionKey {
            key = try agents.sessionKey(raw)
            if let agentId = params.agentId, agentId != key.agentId {
                throw MethodError.invalidRequest("invalid agent params: sessionKey \(key.raw) belongs to agent \(key.agentId), not \(agentId)")
            }
        } else {
            let agentId = params.agentId ?? agents.catalog.defaultId
            guard agents.agentExists(agentId) else { throw MethodError.invalidRequest("unknown agent \"\(agentId)\"") }
            key = SessionKey.main(of: agentId, catalog: agents.catalog)
        }
        let connection = context.connection
        let requestId = context.requestId
        let gateway = context.gateway
        guard connection.beginDeferred() else {
            throw MethodError.unavailable("too many requests waiting on this connection; retry later")
        }
        let request = RunRequest(
            runId: params.idempotencyKey, sessionKey: key, conversation: .session(newMessages: [ChatMessage(role: .user, text: params.message)]),
            extraSystemPrompt: params.extraSystemPrompt, timeoutMs: params.timeout
        )
        let broadcaster = RunEventBroadcaster(registry: gateway.registry, runId: request.runId, sessionKey: key) { outcome in
            Task {
                defer { connection.endDeferred() }
                await connection.sendResponse(finalAnswer(outcome, requestId: requestId), timeout: gateway.responseTimeout)
            }
        }
        let submission: AgentRuntime.Submission
        do {
            submission = try submit(request, agents: agents, observer: broadcaster.handle)
        } catch {
            connection.endDeferred()
            throw error
        }
        let acceptedAt = Clock.nowMs()
        switch submission {
        case .started:
            break
        case .inFlight(let runId):
            // A repeat of a running request: its final comes when the run ends.
            Task {
                defer { connection.endDeferred() }
                if let outcome = await agents.runtime.wait(runId: runId, timeoutMs: 86_400_000) {
                    await connection.sendResponse(finalAnswer(outcome, requestId: requestId), timeout: gateway.responseTimeout)
                }
            }
        case .finished(let outcome):
            connection.endDeferred()
            return finalPayload(outcome)
        }
        return ["runId": .string(request.runId), "status": "accepted", "acceptedAt": .int(acceptedAt)] as JSONValue
    }

    static func finalAnswer(_ outcome: RunOutcome, requestId: String) -> ByteBuffer {
        switch outcome.status {
        case .ok, .aborted:
            let payload = (try? JSONCoding.encode(finalPayload(outcome))) ?? Data("{}".utf8)
            return FrameEncoder.response(id: requestId, payloadJSON: ByteBuffer(data: payload))
        case .error, .timeout:
            var details: [String: JSONValue] = [
                "runId": .string(outcome.runId), "errorKind": .string((outcome.errorKind ?? .unknown).rawValue),
            ]
            if let detail = outcome.errorDetail { details["errorDetail"] = RunEventBroadcaster.detail(detail) }
            return FrameEncoder.error(
                id: requestId,
                ErrorShape(
                    code: ErrorCode.unavailable, message: outcome.errorMessage ?? "the run failed", details: .object(details),
                    retryable: outcome.errorDetail?.retryable
                )
            )
        }
    }

    static func finalPayload(_ outcome: RunOutcome) -> JSONValue {
        var meta: [String: JSONValue] = [
            "durationMs": .int(outcome.endedAt - outcome.startedAt), "agentId": .string(outcome.agentId),
            "sessionKey": .string(outcome.sessionKey),
            "usage": ["input": .int(outcome.usage.input), "output": .int(outcome.usage.output), "total": .int(outcome.usage.total)],
        ]
        if let model = outcome.model {
            meta["provider"] = .string(model.provider)
            meta["model"] = .string(model.model)
        }
        if let reason = outcome.finishReason { meta["stopReason"] = .string(RunEventBroadcaster.stopReason(reason)) }
        let status = outcome.status == .ok ? "ok" : "aborted"
        return [
            "runId": .string(outcome.runId), "status": .string(status), "summary": .string(status == "ok" ? "completed" : "aborted"),
            "result": ["payloads": .array(outcome.text.isEmpty ? [] : [["text": .string(outcome.text)]]), "meta": .object(meta)],
        ]
    }

    // MARK: helpers

    static func submit(
        _ request: RunRequest, agents: HostedAgents, observer: @escaping @Sendable (RunEvent) -> Void
    ) throws -> AgentRuntime.Submission {
        do {
            return try agents.runtime.submit(request, observer: observer)
        } catch {
            throw error.methodError
        }
    }

    static func mapped<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as AgentError {
            throw error.methodError
        }
    }

    static func requireKey(_ key: String, _ method: String) throws {
        guard !key.trimmingCharacters(in: .whitespaces).isEmpty, key.count <= 256 else {
            throw MethodError.invalidRequest("invalid \(method) params: idempotencyKey must be 1 to 256 characters")
        }
    }

    static func checkTimeout(_ value: Int?, _ method: String) throws {
        if let value, !(1...86_400_000).contains(value) {
            throw MethodError.invalidRequest("invalid \(method) params: the timeout must be from 1 to 86400000 ms")
        }
    }

    static func agentRow(_ agent: AgentDefinition) -> JSONValue {
        var row: [String: JSONValue] = ["id": .string(agent.id)]
        if let name = agent.name ?? agent.identity.name { row["name"] = .string(name) }
        var identity: [String: JSONValue] = [:]
        if let name = agent.identity.name { identity["name"] = .string(name) }
        if let emoji = agent.identity.emoji { identity["emoji"] = .string(emoji) }
        if let theme = agent.identity.theme { identity["theme"] = .string(theme) }
        if let avatar = agent.identity.avatar { identity["avatar"] = .string(avatar) }
        if !identity.isEmpty { row["identity"] = .object(identity) }
        if let primary = agent.models.first {
            row["model"] = ["primary": .string(primary.description), "fallbacks": .array(agent.models.dropFirst().map { .string($0.description) })]
        }
        return .object(row)
    }
}

extension TranscriptMessage {
    /// Caps each text block at `maxChars` (chat.history's `maxChars`).
    func truncated(to maxChars: Int?) -> TranscriptMessage {
        guard let maxChars else { return self }
        var copy = self
        copy.content = content.map { block in
            if case .text(let text) = block, text.count > maxChars { return .text(String(text.prefix(maxChars)) + "…") }
            return block
        }
        return copy
    }
}
