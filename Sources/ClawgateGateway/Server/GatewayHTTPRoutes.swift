import ClawgateProtocol
import Foundation
import HTTPTypes
import Hummingbird

/// The HTTP side of the one port: liveness and readiness probes, metrics, and the HTTP APIs.
enum GatewayHTTPRoutes {
    /// Paths served over plain HTTP; a WebSocket upgrade is accepted on every other path.
    static let paths: Set<String> = ["/health", "/healthz", "/ready", "/readyz", MetricsRoute.path]

    static func build(gateway: GatewayCore) -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self)
        router.add(middleware: SecurityHeadersMiddleware())
        for path in ["/health", "/healthz"] {
            router.get(RouterPath(path)) { _, _ in json(.ok, #"{"ok":true,"status":"live"}"#) }
            router.head(RouterPath(path)) { _, _ in json(.ok, "") }
            methodNotAllowed(router, path)
        }
        for path in ["/ready", "/readyz"] {
            router.get(RouterPath(path)) { request, context in readiness(gateway, request: request, context: context) }
            router.head(RouterPath(path)) { request, context in
                var response = readiness(gateway, request: request, context: context)
                response.body = .init()
                return response
            }
            methodNotAllowed(router, path)
        }
        MetricsRoute.register(on: router, gateway: gateway)  // Prometheus scrape, bearer auth unless public
        // The ClawLink relay API (`/`, `/register`, `/poll/{id}`, …); WebSocket upgrades still
        // reach the gateway socket on every path but `/ws/{agent_id}`.
        ClawLinkRoutes.register(on: router, gateway: gateway)
        SeedAPIRoutes.register(on: router, gateway: gateway)  // seed 000: `/api/openclaw/*`, `/tasks`
        OpenAIRoutes.register(on: router, gateway: gateway)  // `/v1/*`, `/tools/invoke`, hooks
        return router
    }

    static func readiness(_ gateway: GatewayCore, request: Request, context: GatewayRequestContext) -> Response {
        let ready = gateway.isReady
        var failing: [String] = []
        if !ready { failing.append(gateway.registry.isAccepting ? "starting" : "shutting-down") }
        // Details only for callers on this machine.
        let local = (context.remoteAddress.flatMap { ClientAddress($0) })?.isLoopback ?? false
        let body: String
        if local {
            let failingJSON = failing.map { "\"\($0)\"" }.joined(separator: ",")
            body = #"{"ready":\#(ready),"failing":[\#(failingJSON)],"uptimeMs":\#(gateway.uptimeMs)}"#
        } else {
            body = #"{"ready":\#(ready)}"#
        }
        return json(ready ? .ok : .serviceUnavailable, body)
    }

    static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: body))
        )
    }

    static func methodNotAllowed(_ router: Router<GatewayRequestContext>, _ path: String) {
        for method in [HTTPRequest.Method.post, .put, .delete, .patch, .options] {
            router.on(RouterPath(path), method: method) { _, _ in
                Response(
                    status: .methodNotAllowed, headers: [.allow: "GET, HEAD", .contentType: "text/plain"],
                    body: .init(byteBuffer: ByteBuffer(string: "Method Not Allowed"))
                )
            }
        }
    }
}

/// Conservative security headers on every HTTP response.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return response
    }
}
