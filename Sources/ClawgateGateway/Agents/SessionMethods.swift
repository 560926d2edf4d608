import ClawgateAgents
import ClawgateModels
import ClawgateProtocol
import Foundation

/// `sessions.list|preview|resolve|patch|reset|delete`: the session store as OpenClaw's UIs see it.
enum SessionMethods {
    static func register(into table: inout MethodTable) {
        table.register("sessions.list", SessionsListParams.self) { params, context in
            let agents = context.gateway.agents
            let limit = params.limit ?? 200
            guard (1...5000).contains(limit) else { throw MethodError.invalidRequest("invalid sessions.list params: limit must be from 1 to 5000") }
            let offset = params.offset ?? 0
            guard offset >= 0 else { throw MethodError.invalidRequest("invalid sessions.list params: offset must be 0 or more") }
            if let minutes = params.activeMinutes, minutes < 1 {
                throw MethodError.invalidRequest("invalid sessions.list params: activeMinutes must be at least 1")
            }
            let agentIds: [String]
            if let agentId = params.agentId {
                guard agents.catalog.agent(agentId) != nil else { throw MethodError.invalidRequest("unknown agent \"\(agentId)\"") }
                agentIds = [agentId]
            } else {
                agentIds = agents.catalog.agents.map(\.id)
            }
            let now = Clock.nowMs()
            var rows: [(key: String, agentId: String, entry: SessionEntry)] = []
            for agentId in agentIds {
                for (key, entry) in try await AgentMethods.mapped({ try await agents.sessions.entries(agentId: agentId) }) {
                    if let label = params.label, entry.label != label { continue }
                    if let spawnedBy = params.spawnedBy, entry.spawnedBy != spawnedBy { continue }
                    if let minutes = params.activeMinutes, now - entry.updatedAt > minutes * 60_000 { continue }
                    if let search = params.search?.lowercased(), !search.isEmpty,
                        !key.lowercased().contains(search), !(entry.label?.lowercased().contains(search) ?? false)
                    {
                        continue
                    }
                    rows.append((key, agentId, entry))
                }
            }
            rows.sort { $0.entry.updatedAt > $1.entry.updatedAt }
            let page = rows.dropFirst(offset).prefix(limit)
            var sessions: [JSONValue] = []
            for row in page {
                var object = try sessionRow(key: row.key, entry: row.entry, runtime: agents.runtime)
                if params.includeLastMessage == true || params.includeDerivedTitles == true {
                    let key = try agents.sessionKey(row.key)
                    let messages = (try? await agents.sessions.messages(key).messages) ?? []
                    if params.includeLastMessage == true, let last = messages.last(where: { !$0.text.isEmpty }) {
                        object["lastMessagePreview"] = .string(String(last.text.prefix(200)))
                    }
                    if params.includeDerivedTitles == true, let first = messages.first(where: { $0.role == .user && !$0.text.isEmpty }) {
                        object["derivedTitle"] = .string(String(first.text.prefix(60)))
                    }
                }
                sessions.append(.object(object))
            }
            let defaultAgent = agents.catalog.defaultAgent
            var defaults: [String: JSONValue] = ["modelProvider": .null, "model": .null, "contextTokens": .null]
            if let model = defaultAgent.models.first {
                defaults["modelProvider"] = .string(model.provider)
                defaults["model"] = .string(model.model)
                let definition = agents.modelRows.first { $0.ref == model }?.definition
                if let window = definition?.contextWindow { defaults["contextTokens"] = .int(window) }
            }
            return [
                "ts": .int(now), "path": .string(agents.sessions.storePath(agentId: agentIds.first ?? defaultAgent.id)),
                "count": .int(sessions.count), "totalCount": .int(rows.count), "hasMore": .bool(offset + page.count < rows.count),
                "defaults": .object(defaults), "sessions": .array(sessions),
            ] as JSONValue
        }
        table.register("sessions.preview", SessionsPreviewParams.self) { params, context in
            let agents = context.gateway.agents
            guard !params.keys.isEmpty, params.keys.count <= 100 else {
                throw MethodError.invalidRequest("invalid sessions.preview params: keys must hold 1 to 100 session keys")
            }
            let limit = params.limit ?? 12
            guard (1...200).contains(limit) else { throw MethodError.invalidRequest("invalid sessions.preview params: limit must be from 1 to 200") }
            let maxChars = params.maxChars ?? 240
            guard maxChars >= 20 else { throw MethodError.invalidRequest("invalid sessions.preview params: maxChars must be at least 20") }
            var previews: [JSONValue] = []
            for raw in params.keys {
                guard let key = try? agents.sessionKey(raw) else {
                    previews.append(["key": .string(raw), "status": "missing", "items": []])
                    continue
                }
                do {
                    guard try await agents.sessions.entry(key) != nil else {
                        previews.append(["key": .string(raw), "status": "missing", "items": []])
                        continue
                    }
                    let messages = try await agents.sessions.messages(key).messages.suffix(limit)
                    let items: [JSONValue] = messages.map { message in
                        let role = message.role == .toolResult ? "tool" : message.role.rawValue
                        return ["role": .string(role), "text": .string(String(message.text.prefix(maxChars)))]
                    }
                    previews.append(["key": .string(key.raw), "status": .string(items.isEmpty ? "empty" : "ok"), "items": .array(items)])
                } catch {
                    previews.append(["key": .string(raw), "status": "error", "items": []])
                }
            }
            return ["ts": .int(Clock.nowMs()), "previews": .array(previews)] as JSONValue
        }
        table.register("sessions.resolve", SessionsResolveParams.self) { params, context in
            let agents = context.gateway.agents
            guard params.key != nil || params.sessionId != nil || params.label != nil else {
                throw MethodError.invalidRequest("invalid sessions.resolve params: give key, sessionId or label")
            }
            if let raw = params.key {
                let key = try agents.sessionKey(raw)
                guard try await AgentMethods.mapped({ try await agents.sessions.entry(key) }) != nil else {
                    throw MethodError.invalidRequest("no session with key \(key.raw)")
                }
                return ["ok": true, "key": .string(key.raw)] as JSONValue
            }
            let agentIds = params.agentId.map { [$0] } ?? agents.catalog.agents.map(\.id)
            for agentId in agentIds {
                for (key, entry) in try await AgentMethods.mapped({ try await agents.sessions.entries(agentId: agentId) }) {
                    if let id = params.sessionId, entry.sessionId == id { return ["ok": true, "key": .string(key)] as JSONValue }
                    if let label = params.label, entry.label == label { return ["ok": true, "key": .string(key)] as JSONValue }
                }
            }
            throw MethodError.invalidRequest("no session matches")
        }
        table.registerRaw("sessions.patch") { raw, context in
            let params = try MethodTable.decode(SessionsPatchParams.self, from: raw, method: "sessions.patch")
            let fields = raw?.objectValue ?? [:]
            return try await patch(params.key, fields: fields, context: context)
        }
        table.register("sessions.reset", SessionsResetParams.self) { params, context in
            let agents = context.gateway.agents
            if let reason = params.reason, reason != "new", reason != "reset" {
                throw MethodError.invalidRequest("invalid sessions.reset params: reason must be \"new\" or \"reset\"")
            }
            let key = try agents.sessionKey(params.key)
            _ = agents.runtime.abort(sessionKey: key.raw)
            let entry = try await AgentMethods.mapped { try await agents.sessions.reset(key, nowMs: Clock.nowMs()) }
            return ["ok": true, "key": .string(key.raw), "entry": try JSONCoding.value(of: entry)] as JSONValue
        }
        table.register("sessions.delete", SessionsDeleteParams.self) { params, context in
            let agents = context.gateway.agents
            let key = try agents.sessionKey(params.key)
            _ = agents.runtime.abort(sessionKey: key.raw)
            let deleted = try await AgentMethods.mapped {
                try await agents.sessions.delete(key, deleteTranscript: params.deleteTranscript ?? false, nowMs: Clock.nowMs())
            }
            return ["ok": true, "key": .string(key.raw), "deleted": .bool(deleted)] as JSONValue
        }
    }

    static func sessionRow(key: String, entry: SessionEntry, runtime: AgentRuntime) throws -> [String: JSONValue] {
        var row = try JSONCoding.value(of: entry).objectValue ?? [:]
        row["key"] = .string(key)
        row["kind"] = .string(key == "global" ? "global" : "direct")
        let active = runtime.activeRuns(sessionKey: key)
        row["hasActiveRun"] = .bool(!active.isEmpty)
        row["activeRunIds"] = .array(active.map { .string($0) })
        return row
    }

    /// Applies the given fields; `null` clears one. Unsupported settings are refused by name.
    static func patch(_ rawKey: String, fields: [String: JSONValue], context: MethodContext) async throws -> JSONValue {
        let agents = context.gateway.agents
        let key = try agents.sessionKey(rawKey)
        for unsupported in ["execHost", "execSecurity", "execAsk", "execNode", "groupActivation"] where fields[unsupported] != nil {
            throw MethodError.invalidRequest("invalid sessions.patch params: \(unsupported) is not supported by this gateway (no exec tools or groups)")
        }
        func text(_ name: String, allowed: [String]? = nil) throws -> String?? {
            guard let value = fields[name] else { return .none }
            if value.isNull { return .some(nil) }
            guard let string = value.stringValue else {
                throw MethodError.invalidRequest("invalid sessions.patch params: \(name) must be a string or null")
            }
            if let allowed, !allowed.contains(string) {
                throw MethodError.invalidRequest("invalid sessions.patch params: \(name) must be one of \(allowed.joined(separator: ", "))")
            }
            return .some(string)
        }
        let label = try text("label")
        let thinking = try text("thinkingLevel")
        let verbose = try text("verboseLevel")
        let reasoning = try text("reasoningLevel")
        let elevated = try text("elevatedLevel")
        let usage = try text("responseUsage", allowed: ["off", "tokens", "full"])
        let sendPolicy = try text("sendPolicy", allowed: ["allow", "deny"])
        let spawnedBy = try text("spawnedBy")
        var model: ModelRef?? = .none
        if let requested = try text("model") {
            if let requested {
                guard let ref = resolveModel(requested, rows: agents.modelRows) else {
                    throw MethodError.invalidRequest("invalid sessions.patch params: unknown model \"\(requested)\" (see models.list)")
                }
                model = .some(ref)
            } else {
                model = .some(nil)
            }
        }
        let chosenModel = model
        let entry = try await AgentMethods.mapped {
            try await agents.sessions.patch(key, nowMs: Clock.nowMs()) { entry in
                if let label { entry.label = label }
                if let thinking { entry.thinkingLevel = thinking }
                if let verbose { entry.verboseLevel = verbose }
                if let reasoning { entry.reasoningLevel = reasoning }
                if let elevated { entry.elevatedLevel = elevated }
                if let usage { entry.responseUsage = usage }
                if let sendPolicy { entry.sendPolicy = sendPolicy }
                if let spawnedBy { entry.spawnedBy = spawnedBy }
                if let chosenModel {
                    entry.providerOverride = chosenModel?.provider
                    entry.modelOverride = chosenModel?.model
                }
            }
        }
        var result: [String: JSONValue] = [
            "ok": true, "path": .string(agents.sessions.storePath(agentId: key.agentId)), "key": .string(key.raw),
            "entry": try JSONCoding.value(of: entry),
        ]
        if let provider = entry.providerOverride, let modelId = entry.modelOverride {
            result["resolved"] = ["modelProvider": .string(provider), "model": .string(modelId)]
        }
        return .object(result)
    }

    /// `provider/model`, or a bare model id when exactly one provider offers it.
    static func resolveModel(_ text: String, rows: [(ref: ModelRef, definition: ModelDefinition)]) -> ModelRef? {
        if let ref = ModelRef(parsing: text), rows.contains(where: { $0.ref == ref }) { return ref }
        let matches = rows.filter { $0.ref.model == text }
        return matches.count == 1 ? matches[0].ref : nil
    }
}
