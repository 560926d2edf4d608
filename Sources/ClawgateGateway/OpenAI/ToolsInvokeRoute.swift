import ClawgateAgents
import ClawgateProtocol
import Foundation
import HTTPTypes
import Hummingbird

/// `POST /tools/invoke {tool, args?, action?, sessionKey?, dryRun?}` → `{ok:true, result}` or
/// `{ok:false, error:{type, message}}`. Always on, bearer auth. Tools that act on the world
/// (`isDangerous`) are refused over HTTP unless `gateway.tools.allow` names them;
/// `gateway.tools.deny` refuses any tool. Unknown or refused tools are a 404, as in OpenClaw.
enum ToolsInvokeRoute {
    static let maxBodyBytes = 2 * 1024 * 1024

    static func register(on router: Router<GatewayRequestContext>, gateway: GatewayCore) {
        router.post("/tools/invoke") { request, context in
            await OpenAIRoutes.answer {
                try OpenAIRequest.authenticate(request, context: context, gateway: gateway, surface: "tools.invoke")
                let body = try await OpenAIRequest.readBody(request, limit: maxBodyBytes)
                for key in body.keys where !["tool", "args", "action", "sessionKey", "dryRun"].contains(key) {
                    throw OpenAIError.invalidRequest("unexpected field \"\(key)\"")
                }
                guard let name = body["tool"]?.stringValue, !name.isEmpty else { throw OpenAIError.invalidRequest("tool is required") }
                let settings = gateway.agents.settings
                guard let tool = gateway.agents.tools.tool(name), !settings.httpToolsDeny.contains(name),
                    !tool.isDangerous || settings.httpToolsAllow.contains(name)
                else {
                    return failure(.notFound, type: "not_found", "tool \"\(name)\" is unknown or not allowed over HTTP (see gateway.tools.allow)")
                }
                var args = body["args"] ?? .object([:])
                if args.isNull { args = .object([:]) }
                guard case .object = args else { throw OpenAIError.invalidRequest("args must be an object") }
                var agentId = gateway.agents.catalog.defaultId
                if let key = body["sessionKey"]?.stringValue {
                    agentId = try SessionKey(resolving: key, catalog: gateway.agents.catalog).agentId
                }
                if body["dryRun"]?.boolValue == true {
                    return ChatCompletionsEndpoint.jsonResponse(["ok": true, "result": ["dryRun": true, "tool": .string(name)]])
                }
                do {
                    let result = try await tool.invoke(
                        arguments: args, context: ToolContext(agentId: agentId, sessionKey: body["sessionKey"]?.stringValue, runId: nil)
                    )
                    return ChatCompletionsEndpoint.jsonResponse(["ok": true, "result": result])
                } catch let error as ToolError {
                    return failure(.badRequest, type: "tool_error", error.message)
                } catch {
                    return failure(.internalServerError, type: "tool_error", "\(error)")
                }
            }
        }
        OpenAIRoutes.notAllowed(router, "/tools/invoke", allow: "POST")
    }

    static func failure(_ status: HTTPResponse.Status, type: String, _ message: String) -> Response {
        ChatCompletionsEndpoint.jsonResponse(["ok": false, "error": ["type": .string(type), "message": .string(message)]], status: status)
    }
}
