import ClawgateMesh
import ClawgateProtocol
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The ClawLink relay's HTTP API on the gateway's port (same paths, bodies and answers as the
/// relay). Every route needs the shared secret; every error is `{"error": "…"}`.
enum ClawLinkRoutes {
    /// Path → the methods it serves (anything else is a 405).
    static let routes: [(path: String, methods: [HTTPRequest.Method])] = [
        ("/", [.get]), ("/register", [.post]), ("/discover", [.get]), ("/heartbeat", [.post]), ("/delegate", [.post]),
        ("/respond", [.post]), ("/broadcast", [.post]), ("/poll/:agent_id", [.get]), ("/files", [.get, .post]),
        ("/files/**", [.get]), ("/ws/:agent_id", [.get]),
    ]

    static func register(on router: Router<GatewayRequestContext>, gateway: GatewayCore) {
        router.get("/") { request, context in
            await serve(gateway, request, context) { relay in try await relay.info() }
        }
        router.post("/register") { request, context in
            await serve(gateway, request, context) { relay in
                let peer = context.remoteAddress.flatMap { ClientAddress($0) }?.ip
                return try await relay.register(try await ClawLinkBody.read(request), peer: peer)
            }
        }
        router.get("/discover") { request, context in
            await serve(gateway, request, context) { relay in try await relay.discover() }
        }
        router.post("/heartbeat") { request, context in
            await serve(gateway, request, context) { relay in try await relay.heartbeat(try await ClawLinkBody.read(request)) }
        }
        router.post("/delegate") { request, context in
            await serve(gateway, request, context) { relay in try await relay.delegate(try await ClawLinkBody.read(request)) }
        }
        router.post("/respond") { request, context in
            await serve(gateway, request, context) { relay in try await relay.respond(try await ClawLinkBody.read(request)) }
        }
        router.post("/broadcast") { request, context in
            await serve(gateway, request, context) { relay in try await relay.broadcast(try await ClawLinkBody.read(request)) }
        }
        router.get("/poll/:agent_id") { request, context in
            await respond(gateway, request, context) { relay in
                let agentId = try parameter(context, "agent_id")
                let (answer, handouts) = try await relay.poll(agentId: agentId)
                // The next poll acknowledges what this answer hands out, unless the answer could
                // not be written: then the lease brings it back instead.
                let bytes = ByteBuffer(bytes: try JSONCoding.encode(answer))
                let hub = relay.hub
                hub.handouts.record(agentId: agentId, handouts)
                return Response(
                    status: .ok, headers: jsonHeaders,
                    body: ResponseBody(contentLength: bytes.readableBytes) { writer in
                        do {
                            try await writer.write(bytes)
                            try await writer.finish(nil)
                        } catch {
                            hub.handouts.remove(agentId: agentId, deliveryIds: handouts.map(\.deliveryId))
                            throw error
                        }
                    }
                )
            }
        }
        router.post("/files") { request, context in
            await serve(gateway, request, context) { relay in try await relay.putFile(try await ClawLinkBody.read(request)) }
        }
        router.get("/files") { request, context in
            await serve(gateway, request, context) { relay in try await relay.listFiles() }
        }
        router.get("/files/**") { request, context in
            await serve(gateway, request, context) { relay in
                let raw = context.parameters.getCatchAll().joined(separator: "/")
                return try await relay.file(key: raw.removingPercentEncoding ?? raw)
            }
        }
        // Reached by a plain GET, or by an upgrade the socket refused: says why.
        router.get("/ws/:agent_id") { request, context in
            await respond(gateway, request, context, allowQueryToken: true) { relay in
                let agentId = try parameter(context, "agent_id")
                _ = try await relay.requireAgent(agentId)
                throw ClawLinkError(.upgradeRequired, "/ws/\(agentId) is a WebSocket: send an upgrade request")
            }
        }
        for (path, methods) in routes {
            let allow = methods.map(\.rawValue).joined(separator: ", ")
            for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch, .options, .head] where !methods.contains(method) {
                router.on(RouterPath(path), method: method) { _, _ in
                    error(ClawLinkError(.methodNotAllowed, "method not allowed: use \(allow)", headers: [.allow: allow]))
                }
            }
        }
    }

    static let jsonHeaders: HTTPFields = [.contentType: "application/json", .cacheControl: "no-store"]

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        let data = (try? JSONCoding.encode(value)) ?? Data("{}".utf8)
        return Response(status: status, headers: jsonHeaders, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ error: ClawLinkError) -> Response {
        var response = json(error.status, ["error": .string(error.message)])
        response.headers.append(contentsOf: error.headers)
        return response
    }

    /// Authenticates, runs `body` and answers with its JSON (200).
    static func serve(
        _ gateway: GatewayCore, _ request: Request, _ context: GatewayRequestContext,
        _ body: (ClawLinkRelay) async throws -> JSONValue
    ) async -> Response {
        await respond(gateway, request, context) { relay in json(.ok, try await body(relay)) }
    }

    /// Authenticates, runs `body`, and turns every failure into an `{"error"}` answer: the
    /// request's status for ClawLink and mesh refusals, 500 (logged, without the URL) otherwise.
    static func respond(
        _ gateway: GatewayCore, _ request: Request, _ context: GatewayRequestContext, allowQueryToken: Bool = false,
        _ body: (ClawLinkRelay) async throws -> Response
    ) async -> Response {
        do {
            try ClawLinkAuth(gateway: gateway).require(
                surface: "clawlink", headers: request.headers, authority: request.head.authority, remote: context.remoteAddress,
                query: request.uri.query, allowQueryToken: allowQueryToken
            )
            return try await body(ClawLinkRelay(gateway: gateway))
        } catch let failure as ClawLinkError {
            if failure.status == .forbidden { auditDenied(gateway, request, context, failure.message, surface: "clawlink") }
            return error(failure)
        } catch let failure as MeshError {
            if failure.kind == .forbidden { auditDenied(gateway, request, context, failure.message, surface: "clawlink") }
            return error(ClawLinkError(failure))
        } catch {
            gateway.logger.error("clawlink request failed", metadata: ["method": "\(request.method)", "error": "\(error)"])
            return Self.error(ClawLinkError(.internalServerError, "internal error"))
        }
    }

    /// A mesh authorization refusal on an HTTP API, for the audit log (the path, never the query).
    static func auditDenied(
        _ gateway: GatewayCore, _ request: Request, _ context: GatewayRequestContext, _ reason: String, surface: String
    ) {
        let remote = UpgradeRequest(remote: ClientAddress(context.remoteAddress), headers: request.headers, authority: request.head.authority)
            .clientAddress(trustedProxies: gateway.settings.trustedProxies)?.ip
        gateway.auditMeshDenied(
            surface: surface, operation: "\(request.method) \(request.uri.path)", agentId: nil, reason: reason, remote: remote
        )
    }

    static func parameter(_ context: GatewayRequestContext, _ name: String) throws(ClawLinkError) -> String {
        guard let raw = context.parameters.get(name) else { throw ClawLinkError.badRequest("\(name) is required") }
        return raw.removingPercentEncoding ?? raw
    }
}
