import ClawgateMesh
import ClawgateProtocol
import Foundation
import HTTPTypes
import Hummingbird

/// The seed-000 HTTP API on the gateway's port. Auth, body parsing and limits are ClawLink's
/// (`ClawLinkAuth`, `ClawLinkBody`: bearer secret, 1 MiB, 400/401/413/429); every refusal is
/// `{"error": "…", "code": "…"}` (`SeedAPIError`).
enum SeedAPIRoutes {
    /// Path → the methods it serves (anything else is a 405).
    static let routes: [(path: String, methods: [HTTPRequest.Method])] = [
        ("/api/openclaw/health", [.get]), ("/api/openclaw/status", [.get]), ("/api/openclaw/capabilities", [.get]),
        ("/api/openclaw/messages", [.get]), ("/api/openclaw/send", [.post]), ("/tasks", [.post]), ("/tasks/:task_id", [.get]),
    ]

    static func register(on router: Router<GatewayRequestContext>, gateway: GatewayCore) {
        router.get("/api/openclaw/health") { request, context in
            await respond(gateway, request, context) { api in try await api.health(namespace: query(request, "namespace")) }
        }
        router.get("/api/openclaw/status") { request, context in
            await respond(gateway, request, context) { api in (.ok, try await api.status(namespace: query(request, "namespace"))) }
        }
        router.get("/api/openclaw/capabilities") { request, context in
            await respond(gateway, request, context) { api in (.ok, try await api.capabilities(namespace: query(request, "namespace"))) }
        }
        router.get("/api/openclaw/messages") { request, context in
            await respond(gateway, request, context) { api in
                let answer = try await api.messages(
                    namespace: query(request, "namespace"), limit: query(request, "limit"), status: query(request, "status")
                )
                return (.ok, answer)
            }
        }
        router.post("/api/openclaw/send") { request, context in
            await respond(gateway, request, context) { api in
                let peer = context.remoteAddress.flatMap { ClientAddress($0) }?.ip
                return (.ok, try await api.send(try await ClawLinkBody.read(request), peer: peer))
            }
        }
        router.post("/tasks") { request, context in
            await respond(gateway, request, context) { api in (.created, try await api.createTask(try await ClawLinkBody.read(request))) }
        }
        router.get("/tasks/:task_id") { request, context in
            await respond(gateway, request, context) { api in
                let taskId = try ClawLinkRoutes.parameter(context, "task_id")
                return (.ok, try await api.task(taskId, namespace: query(request, "namespace"), agentId: query(request, "agent_id")))
            }
        }
        for (path, methods) in routes {
            let allow = methods.map(\.rawValue).joined(separator: ", ")
            for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch, .options, .head] where !methods.contains(method) {
                router.on(RouterPath(path), method: method) { _, _ in
                    SeedAPIError.response(ClawLinkError(.methodNotAllowed, "method not allowed: use \(allow)", headers: [.allow: allow]))
                }
            }
        }
    }

    /// A query parameter; nil when absent or empty.
    static func query(_ request: Request, _ name: String) -> String? {
        guard let value = request.uri.queryParameters.get(name), !value.isEmpty else { return nil }
        return value
    }

    /// Authenticates (as ClawLink does), runs `body` and answers with its status and JSON; every
    /// failure becomes an `{"error", "code"}` answer: its own status for API and mesh refusals,
    /// 500 (logged, without the URL) for anything else.
    static func respond(
        _ gateway: GatewayCore, _ request: Request, _ context: GatewayRequestContext,
        _ body: (SeedAPI) async throws -> (HTTPResponse.Status, JSONValue)
    ) async -> Response {
        do {
            try ClawLinkAuth(gateway: gateway, surface: .seedAPI).require(
                surface: "seed-api", headers: request.headers, authority: request.head.authority, remote: context.remoteAddress, query: request.uri.query
            )
            let (status, answer) = try await body(SeedAPI(gateway: gateway))
            return ClawLinkRoutes.json(status, answer)
        } catch let failure as ClawLinkError {
            if failure.status == .forbidden { ClawLinkRoutes.auditDenied(gateway, request, context, failure.message, surface: "seed-api") }
            return SeedAPIError.response(failure)
        } catch let failure as MeshError {
            if failure.kind == .forbidden { ClawLinkRoutes.auditDenied(gateway, request, context, failure.message, surface: "seed-api") }
            return SeedAPIError.response(failure)
        } catch {
            gateway.logger.error("seed api request failed", metadata: ["method": "\(request.method)", "error": "\(error)"])
            return SeedAPIError.response(ClawLinkError(.internalServerError, "internal error"))
        }
    }
}
