import ClawgateModels
import ClawgateProtocol

extension ConfigParser.Reader {
    /// `models`, `agents`, `session`, `hooks` (top level) into `AgentsConfig`.
    func agentsConfig(top: [String: JSONValue], gateway: [String: JSONValue]) throws(ConfigError) -> AgentsConfig {
        var result = AgentsConfig()
        let models = try object(top["models"], "models", allowed: ["mode", "providers", "timeouts", "retry"])
        if let mode = try string(models["mode"], "models.mode"), mode != "merge", mode != "replace" {
            throw fail("models.mode", "expected \"merge\" or \"replace\", got \"\(mode)\"")
        }
        let providers = try object(models["providers"], "models.providers", allowed: nil)
        for id in providers.keys.sorted() {
            result.providers.append(try provider(id: id, providers[id], "models.providers.\(id)"))
        }
        let timeouts = try object(models["timeouts"], "models.timeouts", allowed: ["connectMs", "firstTokenMs", "totalMs"])
        result.timeouts.connectMs = try int(timeouts["connectMs"], "models.timeouts.connectMs", in: 100...600_000)
        result.timeouts.firstTokenMs = try int(timeouts["firstTokenMs"], "models.timeouts.firstTokenMs", in: 100...3_600_000)
        result.timeouts.totalMs = try int(timeouts["totalMs"], "models.timeouts.totalMs", in: 100...86_400_000)
        let retry = try object(models["retry"], "models.retry", allowed: ["maxAttempts", "initialBackoffMs", "maxBackoffMs"])
        result.retry.maxAttempts = try int(retry["maxAttempts"], "models.retry.maxAttempts", in: 1...20)
        result.retry.initialBackoffMs = try int(retry["initialBackoffMs"], "models.retry.initialBackoffMs", in: 0...60_000)
        result.retry.maxBackoffMs = try int(retry["maxBackoffMs"], "models.retry.maxBackoffMs", in: 0...600_000)

        let agents = try object(top["agents"], "agents", allowed: ["defaults", "list"])
        result.defaults = try agent(agents["defaults"], "agents.defaults", requireId: false)
        if let list = agents["list"], !list.isNull {
            guard case .array(let items) = list else { throw fail("agents.list", "expected an array, got \(list.typeName)") }
            var seen: Set<String> = []
            for (index, item) in items.enumerated() {
                let entry = try agent(item, "agents.list[\(index)]", requireId: true)
                guard seen.insert(entry.id).inserted else { throw fail("agents.list[\(index)].id", "duplicate agent id \"\(entry.id)\"") }
                result.list.append(entry)
            }
            if result.list.filter(\.isDefault).count > 1 {
                throw fail("agents.list", "more than one agent has default: true")
            }
        }
        let session = try object(top["session"], "session", allowed: ["mainKey"])
        result.mainKey = try nonEmptyString(session["mainKey"], "session.mainKey")

        let http = try object(gateway["http"], "gateway.http", allowed: ["endpoints"])
        let endpoints = try object(http["endpoints"], "gateway.http.endpoints", allowed: ["chatCompletions", "responses"])
        let chat = try object(endpoints["chatCompletions"], "gateway.http.endpoints.chatCompletions", allowed: ["enabled", "maxBodyBytes"])
        result.chatCompletionsEnabled = try bool(chat["enabled"], "gateway.http.endpoints.chatCompletions.enabled")
        result.maxBodyBytes = try int(chat["maxBodyBytes"], "gateway.http.endpoints.chatCompletions.maxBodyBytes", in: 1_024...268_435_456)
        let responses = try object(endpoints["responses"], "gateway.http.endpoints.responses", allowed: ["enabled"])
        result.responsesEnabled = try bool(responses["enabled"], "gateway.http.endpoints.responses.enabled")
        let tools = try object(gateway["tools"], "gateway.tools", allowed: ["allow", "deny"])
        result.toolsAllow = try stringArray(tools["allow"], "gateway.tools.allow")
        result.toolsDeny = try stringArray(tools["deny"], "gateway.tools.deny")

        let hooks = try object(top["hooks"], "hooks", allowed: ["enabled", "token", "path", "maxBodyBytes"])
        result.hooks.enabled = try bool(hooks["enabled"], "hooks.enabled")
        result.hooks.token = try nonEmptyString(hooks["token"], "hooks.token").map(Secret.init)
        result.hooks.path = try nonEmptyString(hooks["path"], "hooks.path")
        if let path = result.hooks.path, !path.hasPrefix("/") || path == "/" || path.contains("?") {
            throw fail("hooks.path", "expected an absolute path other than \"/\", like \"/hooks\", got \"\(path)\"")
        }
        result.hooks.maxBodyBytes = try int(hooks["maxBodyBytes"], "hooks.maxBodyBytes", in: 1_024...67_108_864)
        if result.hooks.enabled == true && result.hooks.token == nil {
            throw fail("hooks.token", "required when hooks.enabled is true")
        }
        return result
    }

    private func provider(id: String, _ value: JSONValue?, _ path: String) throws(ConfigError) -> AgentsConfig.ProviderEntry {
        guard !id.isEmpty, !id.contains("/") else { throw fail(path, "a provider id must be non-empty and contain no \"/\"") }
        let p = try object(value, path, allowed: ["baseUrl", "apiKey", "api", "headers", "models", "authHeader"])
        guard let baseUrl = try nonEmptyString(p["baseUrl"], "\(path).baseUrl") else { throw fail("\(path).baseUrl", "required") }
        guard baseUrl.hasPrefix("http://") || baseUrl.hasPrefix("https://") else {
            throw fail("\(path).baseUrl", "expected an http:// or https:// URL, got \"\(baseUrl)\"")
        }
        guard let apiName = try string(p["api"], "\(path).api") else {
            throw fail("\(path).api", "required: one of \(ModelAPI.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))")
        }
        guard let api = ModelAPI(rawValue: apiName) else {
            throw fail("\(path).api", "expected one of \(ModelAPI.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), got \"\(apiName)\"")
        }
        var headers: [String: String] = [:]
        for (name, header) in try object(p["headers"], "\(path).headers", allowed: nil) {
            guard let text = try string(header, "\(path).headers.\(name)") else { continue }
            headers[name] = text
        }
        var models: [ModelDefinition] = []
        if let list = p["models"], !list.isNull {
            guard case .array(let items) = list else { throw fail("\(path).models", "expected an array, got \(list.typeName)") }
            for (index, item) in items.enumerated() {
                let itemPath = "\(path).models[\(index)]"
                let m = try object(
                    item, itemPath,
                    allowed: ["id", "name", "contextWindow", "contextTokens", "maxTokens", "reasoning", "input", "cost"]
                )
                guard let modelId = try nonEmptyString(m["id"], "\(itemPath).id") else { throw fail("\(itemPath).id", "required") }
                models.append(
                    ModelDefinition(
                        id: modelId, name: try string(m["name"], "\(itemPath).name"),
                        contextWindow: try int(m["contextWindow"], "\(itemPath).contextWindow", in: 1...100_000_000),
                        maxTokens: try int(m["maxTokens"], "\(itemPath).maxTokens", in: 1...100_000_000)
                    )
                )
            }
        }
        return AgentsConfig.ProviderEntry(
            id: id, baseUrl: baseUrl, apiKey: try secretReference(p["apiKey"], "\(path).apiKey"), api: api, headers: headers,
            models: models
        )
    }

    private func secretReference(_ value: JSONValue?, _ path: String) throws(ConfigError) -> AgentsConfig.SecretReference? {
        guard let value, !value.isNull else { return nil }
        if case .object = value {
            let ref = try object(value, path, allowed: ["source", "provider", "id"])
            guard try string(ref["source"], "\(path).source") == "env" else {
                throw fail("\(path).source", "only \"env\" secret references are supported")
            }
            guard let name = try nonEmptyString(ref["id"], "\(path).id") else { throw fail("\(path).id", "required") }
            return .environment(name)
        }
        guard let text = try nonEmptyString(value, path) else { return nil }
        if text.hasPrefix("${"), text.hasSuffix("}"), text.count > 3 {
            return .environment(String(text.dropFirst(2).dropLast()))
        }
        return .literal(Secret(text))
    }

    private func agent(_ value: JSONValue?, _ path: String, requireId: Bool) throws(ConfigError) -> AgentsConfig.AgentEntry {
        let a = try object(
            value, path,
            allowed: requireId
                ? ["id", "default", "name", "model", "systemPrompt", "identity", "tools", "workspace", "agentDir"]
                : ["model", "systemPrompt", "tools", "workspace", "embeddingModel"]
        )
        var entry = AgentsConfig.AgentEntry(id: "")
        if requireId {
            guard let id = try nonEmptyString(a["id"], "\(path).id") else { throw fail("\(path).id", "required") }
            guard id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
                throw fail("\(path).id", "use letters, digits, \"-\", \"_\" and \".\" only, got \"\(id)\"")
            }
            entry.id = id
            entry.isDefault = try bool(a["default"], "\(path).default") ?? false
            entry.name = try string(a["name"], "\(path).name")
            let identity = try object(a["identity"], "\(path).identity", allowed: ["name", "emoji", "theme", "avatar"])
            entry.identityName = try string(identity["name"], "\(path).identity.name")
            entry.identityEmoji = try string(identity["emoji"], "\(path).identity.emoji")
            entry.identityTheme = try string(identity["theme"], "\(path).identity.theme")
            entry.identityAvatar = try string(identity["avatar"], "\(path).identity.avatar")
        }
        switch a["model"] {
        case .none, .some(.null):
            break
        case .some(.string(let ref)):
            entry.primaryModel = try modelRef(ref, "\(path).model")
        case .some(.object):
            let m = try object(a["model"], "\(path).model", allowed: ["primary", "fallbacks"])
            if let primary = try string(m["primary"], "\(path).model.primary") {
                entry.primaryModel = try modelRef(primary, "\(path).model.primary")
            }
            let fallbacks = try stringArray(m["fallbacks"], "\(path).model.fallbacks")
            for (index, ref) in fallbacks.enumerated() { _ = try modelRef(ref, "\(path).model.fallbacks[\(index)]") }
            if m["fallbacks"] != nil { entry.fallbackModels = fallbacks }
        case .some(let other):
            throw fail("\(path).model", "expected \"provider/model\" or {primary, fallbacks}, got \(other.typeName)")
        }
        entry.systemPrompt = try string(a["systemPrompt"], "\(path).systemPrompt")
        let tools = try object(a["tools"], "\(path).tools", allowed: ["allow", "deny"])
        if tools["allow"] != nil { entry.toolsAllow = try stringArray(tools["allow"], "\(path).tools.allow") }
        if tools["deny"] != nil { entry.toolsDeny = try stringArray(tools["deny"], "\(path).tools.deny") }
        _ = try string(a["workspace"], "\(path).workspace")
        if let embedding = try string(a["embeddingModel"], "\(path).embeddingModel") {
            entry.embeddingModel = try modelRef(embedding, "\(path).embeddingModel")
        }
        return entry
    }

    private func modelRef(_ text: String, _ path: String) throws(ConfigError) -> String {
        guard ModelRef(parsing: text) != nil else { throw fail(path, "expected \"provider/model\", got \"\(text)\"") }
        return text
    }
}
