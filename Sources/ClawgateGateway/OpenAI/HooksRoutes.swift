import ClawgateAgents
import ClawgateModels
import ClawgateProtocol
import Foundation
import HTTPTypes
import Hummingbird

/// Webhooks (`hooks.enabled` + `hooks.token`): `POST <path>/wake {text, mode?}` and
/// `POST <path>/agent {message, agentId?, sessionKey?, ...}` → `{ok:true, runId}`. The token comes
/// as `Authorization: Bearer` or `X-OpenClaw-Token`, never in the URL (`?token=` is a 400).
/// 20 failed tokens per minute from one address → 429 with `Retry-After`.
enum HooksRoutes {
    static let tokenHeader = HTTPField.Name("x-openclaw-token")!
    static let idempotencyHeaders = [HTTPField.Name("idempotency-key")!, HTTPField.Name("x-idempotency-key")!]

    static func register(on router: Router<GatewayRequestContext>, gateway: GatewayCore) {
        let settings = gateway.agents.settings
        guard settings.hooksEnabled, settings.hooksToken != nil else { return }
        let limiter = AuthRateLimiter(policy: .init(maxAttempts: 20, windowMs: 60_000, lockoutMs: 60_000, exemptLoopback: false))
        let base = settings.hooksPath
        router.on(RouterPath("\(base)/**"), method: .post) { (request: Request, context: GatewayRequestContext) -> Response in
            let sub = String(request.uri.path.dropFirst(base.count))
            if let query = request.uri.query, query.split(separator: "&").contains(where: { $0.hasPrefix("token=") }) {
                return hookError(.badRequest, "send the hook token in a header (Authorization: Bearer or X-OpenClaw-Token), not in the URL")
            }
            let presented = ClawLinkAuth.bearer(request.headers) ?? request.headers[tokenHeader]
            let address = context.remoteAddress.flatMap { ClientAddress($0) }?.ip ?? "unknown"
            // Read per request: a config reload may have rotated the token.
            let current = gateway.agents.settings
            let valid = presented.flatMap { presented in current.hooksToken.map { $0.matches(presented) } } ?? false
            if !valid {
                if let retryAfter = limiter.beginAttempt(address, nowMs: Clock.nowMs()) {
                    gateway.metrics.authRateLimited(.hooks)
                    gateway.auditHTTPAuth(surface: "hooks", allowed: false, reason: "AUTH_RATE_LIMITED", remote: address)
                    var response = hookError(.tooManyRequests, "too many failed hook tokens; retry later")
                    response.headers[.retryAfter] = String(max(1, (retryAfter + 999) / 1000))
                    return response
                }
                let reason = (presented ?? "").isEmpty ? "HOOK_TOKEN_MISSING" : "HOOK_TOKEN_MISMATCH"
                gateway.metrics.authFailure(.hooks, reason: reason.lowercased())
                gateway.auditHTTPAuth(surface: "hooks", allowed: false, reason: reason, remote: address)
                return hookError(.unauthorized, "invalid or missing hook token")
            }
            gateway.auditHTTPAuth(surface: "hooks", allowed: true, reason: nil, remote: address, credential: "hook-token")
            let body: [String: JSONValue]
            do {
                body = try await OpenAIRequest.readBody(request, limit: current.hooksMaxBodyBytes)
            } catch let error as OpenAIError {
                return hookError(error.status, error.message)
            } catch {
                return hookError(.badRequest, "could not read the request body")
            }
            switch sub {
            case "/wake": return await wake(body, gateway: gateway)
            case "/agent": return await agent(body, request: request, gateway: gateway)
            default: return hookError(.notFound, "no hook at \(request.uri.path) (known: \(base)/wake, \(base)/agent)")
            }
        }
        for method in [HTTPRequest.Method.get, .put, .delete, .patch] {
            router.on(RouterPath("\(base)/**"), method: method) { (_: Request, _: GatewayRequestContext) -> Response in
                var response = hookError(.methodNotAllowed, "method not allowed: use POST")
                response.headers[.allow] = "POST"
                return response
            }
        }
    }

    static func wake(_ body: [String: JSONValue], gateway: GatewayCore) async -> Response {
        guard let text = body["text"]?.stringValue, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            return hookError(.badRequest, "text is required")
        }
        let mode = body["mode"]?.stringValue ?? "now"
        guard mode == "now" || mode == "next-heartbeat" else { return hookError(.badRequest, "mode must be \"now\" or \"next-heartbeat\"") }
        let agents = gateway.agents
        let key = SessionKey.main(of: agents.catalog.defaultId, catalog: agents.catalog)
        let message = ChatMessage(role: .user, text: "System: \(text)")
        if mode == "now" {
            let runId = "hook-wake-\(RandomID.uuid())"
            let broadcaster = RunEventBroadcaster(registry: gateway.registry, runId: runId, sessionKey: key)
            do {
                _ = try agents.runtime.submit(RunRequest(runId: runId, sessionKey: key, conversation: .session(newMessages: [message])), observer: broadcaster.handle)
            } catch {
                return hookError(.badRequest, error.message)
            }
        } else {
            let now = Clock.nowMs()
            do {
                // The transcript write ends in fsync: off the connection's event loop.
                try await withTaskExecutorPreference(globalConcurrentExecutor) {
                    try await agents.sessions.append([TranscriptMessage(role: .user, text: message.text, timestamp: now)], to: key, nowMs: now)
                }
            } catch {
                return hookError(.serviceUnavailable, "\(error)")
            }
        }
        return ChatCompletionsEndpoint.jsonResponse(["ok": true, "mode": .string(mode)])
    }

    static func agent(_ body: [String: JSONValue], request: Request, gateway: GatewayCore) async -> Response {
        let agents = gateway.agents
        guard let message = body["message"]?.stringValue, !message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            return hookError(.badRequest, "message is required")
        }
        let key: SessionKey
        do {
            if let raw = body["sessionKey"]?.stringValue {
                key = try SessionKey(resolving: raw, catalog: agents.catalog)
            } else {
                let agentId = body["agentId"]?.stringValue ?? agents.catalog.defaultId
                guard agents.catalog.agent(agentId) != nil else { return hookError(.badRequest, "unknown agent \"\(agentId)\"") }
                key = try SessionKey(resolving: "agent:\(agentId):hook:\(RandomID.uuid())", catalog: agents.catalog)
            }
        } catch {
            return hookError(.badRequest, error.message)
        }
        var modelOverride: [ModelRef]?
        if let model = body["model"]?.stringValue {
            guard let ref = SessionMethods.resolveModel(model, rows: agents.modelRows) else { return hookError(.badRequest, "unknown model \"\(model)\"") }
            modelOverride = [ref]
        }
        let timeoutSeconds = body["timeoutSeconds"]?.intValue
        if let timeoutSeconds, !(1...86_400).contains(timeoutSeconds) { return hookError(.badRequest, "timeoutSeconds must be from 1 to 86400") }
        let idempotency = idempotencyHeaders.lazy.compactMap { request.headers[$0] }.first ?? body["idempotencyKey"]?.stringValue
        let runId = idempotency.map { "hook-\($0.prefix(200))" } ?? "hook-\(RandomID.uuid())"
        let broadcaster = RunEventBroadcaster(registry: gateway.registry, runId: runId, sessionKey: key)
        do {
            _ = try agents.runtime.submit(
                RunRequest(
                    runId: runId, sessionKey: key, conversation: .session(newMessages: [ChatMessage(role: .user, text: message)]),
                    modelOverride: modelOverride, timeoutMs: timeoutSeconds.map { $0 * 1000 }
                ),
                observer: broadcaster.handle
            )
        } catch {
            return hookError(.badRequest, error.message)
        }
        return ChatCompletionsEndpoint.jsonResponse(["ok": true, "runId": .string(runId), "sessionKey": .string(key.raw)])
    }

    static func hookError(_ status: HTTPResponse.Status, _ message: String) -> Response {
        ChatCompletionsEndpoint.jsonResponse(["ok": false, "error": .string(message)], status: status)
    }
}
