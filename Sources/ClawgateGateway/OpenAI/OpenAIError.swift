import ClawgateAgents
import ClawgateModels
import ClawgateProtocol
import Foundation
import HTTPTypes
import Hummingbird

/// An OpenAI-shaped refusal: `{"error": {"message", "type", "code"}}` with the status OpenAI
/// clients expect (400/401/403/404/405/413/429/5xx).
struct OpenAIError: Error, Sendable {
    var status: HTTPResponse.Status
    var message: String
    var type: String
    var code: String?
    var headers: HTTPFields = [:]

    static func invalidRequest(_ message: String, code: String? = nil) -> OpenAIError {
        OpenAIError(status: .badRequest, message: message, type: "invalid_request_error", code: code)
    }

    static let unauthorized = OpenAIError(status: .unauthorized, message: "Unauthorized", type: "unauthorized", code: "invalid_api_key")

    static func rateLimited(retryAfterMs: Int) -> OpenAIError {
        OpenAIError(
            status: .tooManyRequests, message: "too many failed authentication attempts; retry later", type: "rate_limit_error",
            code: "rate_limited", headers: [.retryAfter: String(max(1, (retryAfterMs + 999) / 1000))]
        )
    }

    static func notFound(_ message: String, code: String = "not_found") -> OpenAIError {
        OpenAIError(status: .notFound, message: message, type: "invalid_request_error", code: code)
    }

    static func methodNotAllowed(_ allow: String) -> OpenAIError {
        OpenAIError(
            status: .methodNotAllowed, message: "method not allowed: use \(allow)", type: "invalid_request_error", code: "method_not_allowed",
            headers: [.allow: allow]
        )
    }

    static func tooLarge(_ limit: Int) -> OpenAIError {
        OpenAIError(status: .contentTooLarge, message: "request body is larger than \(limit) bytes", type: "invalid_request_error", code: "request_too_large")
    }

    /// A provider failure as the HTTP status a client can act on.
    static func model(kind: ModelErrorKind?, message: String) -> OpenAIError {
        switch kind ?? .unknown {
        case .rateLimit:
            OpenAIError(status: .tooManyRequests, message: message, type: "rate_limit_error", code: "rate_limit_exceeded")
        case .timeout:
            OpenAIError(status: .gatewayTimeout, message: message, type: "timeout_error", code: "upstream_timeout")
        case .contextLength:
            OpenAIError(status: .badRequest, message: message, type: "invalid_request_error", code: "context_length_exceeded")
        case .auth:
            OpenAIError(status: .badGateway, message: message, type: "upstream_error", code: "upstream_auth_failed")
        case .refusal:
            OpenAIError(status: .badRequest, message: message, type: "invalid_request_error", code: "content_filter")
        case .unknown:
            OpenAIError(status: .badGateway, message: message, type: "upstream_error", code: "upstream_error")
        }
    }

    var body: JSONValue {
        var error: [String: JSONValue] = ["message": .string(message), "type": .string(type)]
        error["code"] = code.map { .string($0) } ?? .null
        return ["error": .object(error)]
    }

    var response: Response {
        var fields = headers
        fields[.cacheControl] = "no-store"
        return ChatCompletionsEndpoint.jsonResponse(body, status: status, headers: fields)
    }
}

extension AgentError {
    var openAIError: OpenAIError {
        switch kind {
        case .invalidInput, .conflict: OpenAIError.invalidRequest(message)
        case .notFound: OpenAIError.notFound(message)
        case .unavailable: OpenAIError(status: .serviceUnavailable, message: message, type: "server_error", code: "unavailable")
        }
    }
}
