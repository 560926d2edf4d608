import ClawgateAgents
import ClawgateProtocol
import Foundation
import HTTPTypes
import Hummingbird

/// The OpenAI-compatible HTTP API (`/v1/...`), off unless `gateway.http.endpoints.*.enabled`;
/// `/tools/invoke` (always on) and the hooks (`hooks.enabled`). Every refusal is OpenAI-shaped.
enum OpenAIRoutes {
    static func register(on router: Router<GatewayRequestContext>, gateway: GatewayCore) {
        let settings = gateway.agents.settings
        if settings.openAIModelsEnabled {
            router.get("/v1/models") { request, context in
                await answer {
                    try OpenAIRequest.authenticate(request, context: context, gateway: gateway)
                    return ChatCompletionsEndpoint.jsonResponse(["object": "list", "data": .array(modelIds(gateway).map(modelObject))])
                }
            }
            // Ids contain slashes (`openclaw/main`), hence the recursive wildcard and the raw path.
            router.get("/v1/models/**") { request, context in
                await answer {
                    try OpenAIRequest.authenticate(request, context: context, gateway: gateway)
                    let id = String(request.uri.path.dropFirst("/v1/models/".count)).removingPercentEncoding ?? ""
                    guard modelIds(gateway).contains(id) else { throw OpenAIError.notFound("unknown model \"\(id)\"", code: "model_not_found") }
                    return ChatCompletionsEndpoint.jsonResponse(modelObject(id))
                }
            }
            router.post("/v1/embeddings") { request, context in
                await answer { try await EmbeddingsEndpoint.handle(try await OpenAIRequest.read(request, context: context, gateway: gateway)) }
            }
            notAllowed(router, "/v1/models", allow: "GET")
            notAllowed(router, "/v1/embeddings", allow: "POST")
        }
        if settings.chatCompletionsEnabled {
            router.post("/v1/chat/completions") { request, context in
                await answer { try await ChatCompletionsEndpoint.handle(try await OpenAIRequest.read(request, context: context, gateway: gateway)) }
            }
            notAllowed(router, "/v1/chat/completions", allow: "POST")
        }
        if settings.responsesEnabled {
            router.post("/v1/responses") { request, context in
                await answer { try await ResponsesEndpoint.handle(try await OpenAIRequest.read(request, context: context, gateway: gateway)) }
            }
            notAllowed(router, "/v1/responses", allow: "POST")
        }
        ToolsInvokeRoute.register(on: router, gateway: gateway)
        HooksRoutes.register(on: router, gateway: gateway)
    }

    /// Agent-first model ids: `openclaw`, `openclaw/default`, `openclaw/<agentId>`, then the
    /// configured backend models as `provider/model`.
    static func modelIds(_ gateway: GatewayCore) -> [String] {
        ["openclaw", "openclaw/default"] + gateway.agents.catalog.agents.map { "openclaw/\($0.id)" }
            + gateway.agents.modelRows.map(\.ref.description)
    }

    static func modelObject(_ id: String) -> JSONValue {
        ["id": .string(id), "object": "model", "created": .int(0), "owned_by": "openclaw"]
    }

    static func answer(_ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch let error as OpenAIError {
            return error.response
        } catch let error as AgentError {
            return error.openAIError.response
        } catch {
            return OpenAIError(status: .internalServerError, message: "\(error)", type: "server_error", code: nil).response
        }
    }

    static func notAllowed(_ router: Router<GatewayRequestContext>, _ path: String, allow: String) {
        for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch] where method.rawValue != allow {
            router.on(RouterPath(path), method: method) { _, _ in OpenAIError.methodNotAllowed(allow).response }
        }
    }
}
