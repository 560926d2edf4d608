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

    /// 200 when ready, else 503. Loopback callers also learn which components fail and why
    /// (`failing`, `details`); anyone else only `{ready}`.
    static func readiness(_ gateway: GatewayCore, request: Request, context: GatewayRequestContext) -> Response {
        let (summary, details) = gateway.readiness
        let local = (context.remoteAddress.flatMap { ClientAddress($0) })?.isLoopback ?? false
        var body: [String: JSONValue] = ["ready": .bool(summary.ready)]
        if local {
            body["failing"] = .array(summary.failing.map { .string($0) })
            body["details"] = .object(details.mapValues { .string($0) })
            body["uptimeMs"] = .int(gateway.uptimeMs)
        }
        let text = (try? JSONCoding.encode(JSONValue.object(body), sortedKeys: true)).map { String(decoding: $0, as: UTF8.self) }
            ?? #"{"ready":\#(summary.ready)}"#
        return json(summary.ready ? .ok : .serviceUnavailable, text)
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
