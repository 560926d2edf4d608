import ClawgateAgents
import ClawgateModels
import ClawgateProtocol
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// What the OpenAI-compatible endpoints share: auth, the JSON body, and the mapping of `model`
/// and the `x-openclaw-*` headers to an agent, a backend model and a session.
struct OpenAIRequest: Sendable {
    let gateway: GatewayCore
    let body: [String: JSONValue]
    let headers: HTTPFields
    /// The agent that answers.
    let agent: AgentDefinition
    /// Backend models chosen by `x-openclaw-model` or a `provider/model` in `model`.
    let modelOverride: [ModelRef]?
    /// The `model` string as given, echoed back in responses.
    let requestedModel: String

    static let agentHeader = HTTPField.Name("x-openclaw-agent-id")!
    static let modelHeader = HTTPField.Name("x-openclaw-model")!
    static let sessionHeader = HTTPField.Name("x-openclaw-session-key")!

    /// Authenticates, reads the body (JSON object, size-limited) and resolves the agent.
    static func read(_ request: Request, context: GatewayRequestContext, gateway: GatewayCore) async throws(OpenAIError) -> OpenAIRequest {
        try authenticate(request, context: context, gateway: gateway)
        let body = try await readBody(request, limit: gateway.agents.settings.maxBodyBytes)
        let catalog = gateway.agents.catalog
        let isRemote = gateway.agents.runtime.setup.isRemote
        /// A configured agent, or a connected remote (mesh) agent.
        func lookup(_ id: String) -> AgentDefinition? {
            catalog.agent(id) ?? (isRemote(id) ? AgentDefinition.remote(id: id) : nil)
        }
        let requested = body["model"]?.stringValue ?? "openclaw"
        var agent = catalog.defaultAgent
        var modelOverride: [ModelRef]?
        if let headerAgent = request.headers[agentHeader], !headerAgent.isEmpty {
            guard let found = lookup(headerAgent) else { throw OpenAIError.notFound("unknown agent \"\(headerAgent)\"", code: "model_not_found") }
            agent = found
        } else if let target = agentTarget(requested) {
            if let id = target {
                guard let found = lookup(id) else {
                    throw OpenAIError.notFound("unknown model \"\(requested)\": no agent \"\(id)\"", code: "model_not_found")
                }
                agent = found
            }
        } else if let ref = SessionMethods.resolveModel(requested, rows: gateway.agents.modelRows) {
            modelOverride = [ref]
        } else {
            throw OpenAIError.notFound(
                "unknown model \"\(requested)\": use openclaw, openclaw/default, openclaw/<agentId> or a configured provider/model",
                code: "model_not_found"
            )
        }
        if let header = request.headers[modelHeader], !header.isEmpty {
            guard let ref = SessionMethods.resolveModel(header, rows: gateway.agents.modelRows) else {
                throw OpenAIError.invalidRequest("x-openclaw-model: unknown model \"\(header)\" (configure it under models.providers)")
            }
            modelOverride = [ref]
        }
        return OpenAIRequest(
            gateway: gateway, body: body, headers: request.headers, agent: agent, modelOverride: modelOverride, requestedModel: requested
        )
    }

    /// `openclaw`, `openclaw/default` → .some(nil) (default agent); `openclaw/<id>`, `openclaw:<id>`,
    /// `agent:<id>` → .some(id); anything else → nil.
    static func agentTarget(_ model: String) -> String?? {
        if model == "openclaw" || model == "openclaw/default" { return .some(nil) }
        for prefix in ["openclaw/", "openclaw:", "agent:"] where model.hasPrefix(prefix) {
            let id = String(model.dropFirst(prefix.count))
            return id.isEmpty ? .some(nil) : .some(id)
        }
        return nil
    }

    static func authenticate(
        _ request: Request, context: GatewayRequestContext, gateway: GatewayCore, surface: String = "openai"
    ) throws(OpenAIError) {
        let auth = ClawLinkAuth(gateway: gateway, surface: .openai)
        switch auth.check(
            surface: surface, headers: request.headers, authority: request.head.authority, remote: context.remoteAddress, query: nil, allowQueryToken: false
        ) {
        case .allowed: return
        case .unauthorized: throw OpenAIError.unauthorized
        case .rateLimited(let retryAfterMs): throw OpenAIError.rateLimited(retryAfterMs: retryAfterMs)
        }
    }

    /// Bodies above this are parsed off the connection's event loop.
    static let largeBodyBytes = 256 * 1024

    static func readBody(_ request: Request, limit: Int) async throws(OpenAIError) -> [String: JSONValue] {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit { throw OpenAIError.tooLarge(limit) }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw OpenAIError.tooLarge(limit)
        } catch {
            throw OpenAIError.invalidRequest("could not read the request body")
        }
        let value: JSONValue
        do {
            // A large body is tens of milliseconds of parsing: on the pool, not on the
            // connection's event loop, whose other sockets would wait for it (nil: stay).
            let executor: (any TaskExecutor)? = buffer.readableBytes > largeBodyBytes ? globalConcurrentExecutor : nil
            value = try await withTaskExecutorPreference(executor) {
                try buffer.withUnsafeReadableBytes { try JSONCoding.jsonValue(from: $0) }
            }
        } catch {
            throw OpenAIError.invalidRequest("the body is not valid JSON: \(JSONCoding.describe(error))")
        }
        guard case .object(let object) = value else { throw OpenAIError.invalidRequest("the body must be a JSON object") }
        return object
    }

    /// The session the call belongs to: `x-openclaw-session-key`, else one derived from `user`,
    /// else none (a stateless call).
    func sessionKey() throws(OpenAIError) -> SessionKey? {
        let catalog = gateway.agents.catalog
        if let header = headers[Self.sessionHeader], !header.isEmpty {
            do {
                let key = try SessionKey(resolving: header, catalog: catalog, isRemote: gateway.agents.runtime.setup.isRemote)
                if key.agentId != agent.id && headers[Self.agentHeader] != nil {
                    throw OpenAIError.invalidRequest("x-openclaw-session-key \(key.raw) belongs to agent \(key.agentId), not \(agent.id)")
                }
                return key
            } catch let error as AgentError {
                throw error.openAIError
            } catch let error as OpenAIError {
                throw error
            } catch {
                throw OpenAIError.invalidRequest("\(error)")
            }
        }
        if let user = body["user"]?.stringValue, !user.isEmpty {
            guard user.count <= 256 else { throw OpenAIError.invalidRequest("user must be at most 256 characters") }
            let safe = String(user.map { $0.isLetter || $0.isNumber || "-_.@".contains($0) ? $0 : "_" })
            do {
                return try SessionKey(
                    resolving: "agent:\(agent.id):openai-user:\(safe)", catalog: catalog, isRemote: gateway.agents.runtime.setup.isRemote
                )
            } catch {
                throw error.openAIError
            }
        }
        return nil
    }

    // MARK: field readers

    func int(_ name: String, in range: ClosedRange<Int>) throws(OpenAIError) -> Int? {
        guard let value = body[name], !value.isNull else { return nil }
        guard let int = value.intValue, range.contains(int) else {
            throw OpenAIError.invalidRequest("\(name) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return int
    }

    func double(_ name: String, in range: ClosedRange<Double>) throws(OpenAIError) -> Double? {
        guard let value = body[name], !value.isNull else { return nil }
        let number: Double
        switch value {
        case .int(let int): number = Double(int)
        case .double(let double): number = double
        default: throw OpenAIError.invalidRequest("\(name) must be a number")
        }
        guard range.contains(number) else { throw OpenAIError.invalidRequest("\(name) must be from \(range.lowerBound) to \(range.upperBound)") }
        return number
    }

    func bool(_ name: String) throws(OpenAIError) -> Bool {
        guard let value = body[name], !value.isNull else { return false }
        guard let bool = value.boolValue else { throw OpenAIError.invalidRequest("\(name) must be true or false") }
        return bool
    }

    func stop() throws(OpenAIError) -> [String] {
        switch body["stop"] {
        case .none, .some(.null): return []
        case .some(.string(let text)): return [text]
        case .some(.array(let items)):
            var result: [String] = []
            for item in items {
                guard let text = item.stringValue else { throw OpenAIError.invalidRequest("stop must be a string or an array of strings") }
                result.append(text)
            }
            return result
        default: throw OpenAIError.invalidRequest("stop must be a string or an array of strings")
        }
    }

    /// `tools` in Chat Completions form (`{type:"function", function:{name, description, parameters}}`)
    /// or Responses form (`{type:"function", name, description, parameters}`).
    func tools() throws(OpenAIError) -> [ToolDefinition] {
        guard let value = body["tools"], !value.isNull else { return [] }
        guard let items = value.arrayValue else { throw OpenAIError.invalidRequest("tools must be an array") }
        var result: [ToolDefinition] = []
        for (index, item) in items.enumerated() {
            guard item["type"]?.stringValue == "function" else {
                throw OpenAIError.invalidRequest("tools[\(index)]: only function tools are supported")
            }
            let function = item["function"] ?? item
            guard let name = function["name"]?.stringValue, !name.isEmpty else {
                throw OpenAIError.invalidRequest("tools[\(index)]: the function needs a name")
            }
            result.append(
                ToolDefinition(
                    name: name, description: function["description"]?.stringValue ?? "",
                    parameters: function["parameters"] ?? ["type": "object", "properties": [:]]
                )
            )
        }
        return result
    }

    func toolChoice() throws(OpenAIError) -> ToolChoice? {
        switch body["tool_choice"] {
        case .none, .some(.null): return nil
        case .some(.string("auto")): return .auto
        case .some(.string("none")): return ToolChoice.none
        case .some(.string("required")): return .required
        case .some(.object(let object)):
            if let name = object["function"]?["name"]?.stringValue ?? object["name"]?.stringValue { return .function(name) }
            throw OpenAIError.invalidRequest("tool_choice: a function choice needs a name")
        default:
            throw OpenAIError.invalidRequest("tool_choice must be auto, none, required or a function")
        }
    }
}
