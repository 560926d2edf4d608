import Foundation
import HTTPTypes
import Hummingbird

/// `GET|HEAD /metrics`: the gateway's series in the Prometheus text format.
///
/// Guarded like the other HTTP APIs — the shared token or password as `Authorization: Bearer`,
/// compared in constant time, failures rate limited — unless `gateway.metrics.public` is true
/// (a scraper on a private network without the secret). Auth mode `none` needs nothing.
enum MetricsRoute {
    static let path = "/metrics"
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"
    static let unauthorizedMessage =
        "unauthorized: /metrics needs the gateway token or password as Authorization: Bearer <secret> (or set gateway.metrics.public to true to scrape without auth on a private network)\n"

    static func register(on router: Router<GatewayRequestContext>, gateway: GatewayCore) {
        router.get(RouterPath(path)) { request, context in await scrape(request, context: context, gateway: gateway) }
        router.head(RouterPath(path)) { request, context in
            var response = await scrape(request, context: context, gateway: gateway)
            response.body = .init()
            return response
        }
        GatewayHTTPRoutes.methodNotAllowed(router, path)
    }

    static func scrape(_ request: Request, context: GatewayRequestContext, gateway: GatewayCore) async -> Response {
        if !gateway.settings.metricsPublic {
            let auth = ClawLinkAuth(gateway: gateway, surface: .metrics)
            switch auth.check(
                surface: "metrics", headers: request.headers, authority: request.head.authority, remote: context.remoteAddress, query: nil,
                allowQueryToken: false
            ) {
            case .allowed:
                break
            case .unauthorized:
                var response = text(.unauthorized, unauthorizedMessage)
                response.headers[.wwwAuthenticate] = #"Bearer realm="clawgate""#
                return response
            case .rateLimited(let retryAfterMs):
                var response = text(.tooManyRequests, "too many failed authentication attempts; retry later\n")
                response.headers[.retryAfter] = String(max(1, (retryAfterMs + 999) / 1000))
                return response
            }
        }
        let body = await gateway.metrics.scrape(gateway)
        return Response(
            status: .ok, headers: [.contentType: contentType, .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: body))
        )
    }

    static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: body))
        )
    }
}
