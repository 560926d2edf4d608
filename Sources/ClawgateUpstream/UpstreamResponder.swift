import ClawgateProtocol
import Foundation
import Hummingbird
import NIOCore

/// Routes every request by hand (no router): unknown paths, wrong methods, auth failures and bad
/// JSON must all answer in the called API's error shape, and the hot path stays a few branches.
struct UpstreamResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    static let maxBodyBytes = 64 << 20

    let state: UpstreamState

    enum Route {
        case models, chatCompletions, responses, embeddings, messages

        init?(path: String) {
            switch path {
            case "/v1/models": self = .models
            case "/v1/chat/completions": self = .chatCompletions
            case "/v1/responses": self = .responses
            case "/v1/embeddings": self = .embeddings
            case "/v1/messages": self = .messages
            default: return nil
            }
        }

        var method: HTTPRequest.Method { self == .models ? .get : .post }
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        var request = request
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            if let existing = headers[name] {
                headers[name] = existing + ", " + field.value
            } else {
                headers[name] = field.value
            }
        }
        let path = request.uri.path
        var body: JSONValue?
        var tooLarge = false
        // Over the limit is a 413; any other error means the connection broke mid-body (nobody to
        // answer), so it propagates.
        do {
            let buffer = try await request.collectBody(upTo: Self.maxBodyBytes)
            if buffer.readableBytes > 0 {
                body = try? buffer.withUnsafeReadableBytes { bytes in try JSONCoding.decode(JSONValue.self, from: Data(bytes)) }
            }
        } catch is NIOTooManyBytesError {
            tooLarge = true
        }
        let token = state.begin(RecordedRequest(method: request.method.rawValue, path: path, headers: headers, body: body))
        let exchange = Exchange(request: request, body: body, headers: headers, state: state, token: token)
        let response = await route(exchange, path: path, tooLarge: tooLarge)
        // Streamed bodies (no length) finish their token once written; the rest are done now.
        if response.body.contentLength != nil { token.finish() }
        return response
    }

    private func route(_ exchange: Exchange, path: String, tooLarge: Bool) async -> Response {
        let method = exchange.request.method
        guard let route = Route(path: path) else {
            return APIError(status: 404, message: "Invalid URL (\(method.rawValue) \(path))", anthropicType: "not_found_error")
                .response(Self.guessDialect(exchange.headers))
        }
        let dialect: Dialect =
            switch route {
            case .messages: .anthropic
            case .models: Self.guessDialect(exchange.headers)
            case .chatCompletions, .responses, .embeddings: .openAI
            }
        guard method == route.method else {
            var response = APIError(status: 405, message: "Method \(method.rawValue) not allowed for \(path); use \(route.method.rawValue).")
                .response(dialect)
            response.headers[.allow] = route.method.rawValue
            return response
        }
        if let error = authorize(exchange.headers, dialect: dialect) { return error.response(dialect) }
        if tooLarge {
            return APIError(status: 413, message: "Request body exceeds \(Self.maxBodyBytes) bytes.").response(dialect)
        }
        if route.method == .post, exchange.body == nil {
            let message =
                dialect == .anthropic
                ? "There was an error parsing the body of your request: it is not valid JSON."
                : "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)"
            return APIError.badRequest(message).response(dialect)
        }
        do {
            switch route {
            case .models: return ModelsRoutes.respond(exchange, dialect: dialect)
            case .chatCompletions: return try await OpenAIChatRoutes.respond(exchange)
            case .responses: return try await OpenAIResponsesRoutes.respond(exchange)
            case .embeddings: return try await EmbeddingRoutes.respond(exchange)
            case .messages: return try await AnthropicRoutes.respond(exchange)
            }
        } catch {
            return error.response(dialect)
        }
    }

    /// A caller that sends Anthropic's headers (and no bearer token) gets Anthropic's shapes.
    static func guessDialect(_ headers: [String: String]) -> Dialect {
        if headers["anthropic-version"] != nil { return .anthropic }
        if headers["x-api-key"] != nil, headers["authorization"] == nil { return .anthropic }
        return .openAI
    }

    /// With an API key configured: OpenAI wants `Authorization: Bearer <key>`; Anthropic wants
    /// `x-api-key: <key>` (its current SDKs send the key as a bearer token instead, which the API
    /// also takes) and an `anthropic-version` header. Keys never appear in messages.
    private func authorize(_ headers: [String: String], dialect: Dialect) -> APIError? {
        guard let apiKey = state.apiKey else { return nil }
        let bearer = headers["authorization"].flatMap(Self.bearerToken)
        switch dialect {
        case .openAI:
            guard headers["authorization"] != nil else {
                return APIError(
                    status: 401,
                    message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth "
                        + "(i.e. Authorization: Bearer YOUR_KEY).",
                    openAICode: nil
                )
            }
            guard bearer == apiKey else {
                return APIError(status: 401, message: "Incorrect API key provided.", openAICode: "invalid_api_key")
            }
            return nil
        case .anthropic:
            guard headers["x-api-key"] == apiKey || (headers["x-api-key"] == nil && bearer == apiKey) else {
                return APIError(status: 401, message: "invalid x-api-key", anthropicType: "authentication_error")
            }
            guard headers["anthropic-version"] != nil else {
                return APIError(status: 400, message: "anthropic-version: header is required", anthropicType: "invalid_request_error")
            }
            return nil
        }
    }

    /// The token of an `Authorization: Bearer <token>` value (scheme case-insensitive).
    static func bearerToken(_ authorization: String) -> String? {
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1])
    }
}
