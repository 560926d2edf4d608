import Hummingbird

/// Which provider's conventions (error shape, auth header) a request follows.
enum Dialect {
    case openAI
    case anthropic
}

/// An error answer, rendered in the shape of the API the client called, because providers parse
/// error bodies (`error.code`, `error.type`) to decide between retrying, failing over and giving up.
struct APIError: Error {
    var status: Int
    var message: String
    /// OpenAI `error.type`; derived from the status when `nil`.
    var openAIType: String?
    /// OpenAI `error.code` (`null` when `nil`).
    var openAICode: String?
    /// OpenAI `error.param`.
    var param: String?
    /// Anthropic `error.type`; derived from the status when `nil`.
    var anthropicType: String?

    init(
        status: Int, message: String, openAIType: String? = nil, openAICode: String? = nil, param: String? = nil,
        anthropicType: String? = nil
    ) {
        self.status = status
        self.message = message
        self.openAIType = openAIType
        self.openAICode = openAICode
        self.param = param
        self.anthropicType = anthropicType
    }

    static func badRequest(_ message: String, param: String? = nil) -> APIError {
        APIError(status: 400, message: message, param: param)
    }

    static func from(_ failure: PlannedFailure) -> APIError {
        switch failure {
        case .status(let code, let message):
            return APIError(status: code, message: message, openAICode: openAICode(code))
        case .contextLengthExceeded:
            return APIError(
                status: 400,
                message: "This model's maximum context length is 128000 tokens. However, your messages resulted in 128001 tokens. "
                    + "Please reduce the length of the messages.",
                openAICode: "context_length_exceeded", param: "messages",
                anthropicType: "invalid_request_error"
            )
        }
    }

    /// Anthropic words the context-length error differently from OpenAI.
    static func fromAnthropic(_ failure: PlannedFailure) -> APIError {
        if case .contextLengthExceeded = failure {
            return APIError(status: 400, message: "prompt is too long: 200001 tokens > 200000 maximum", anthropicType: "invalid_request_error")
        }
        return from(failure)
    }

    func response(_ dialect: Dialect) -> Response {
        // Statuses outside the final-response range would trip HTTPTypes' preconditions.
        let code = (200...999).contains(status) ? status : 500
        let body: WireJSON
        switch dialect {
        case .openAI:
            body = [
                "error": [
                    "message": .string(message),
                    "type": .string(openAIType ?? Self.openAIType(code)),
                    "param": .optional(param),
                    "code": .optional(openAICode),
                ]
            ]
        case .anthropic:
            body = [
                "type": "error",
                "error": ["type": .string(anthropicType ?? Self.anthropicType(code)), "message": .string(message)],
            ]
        }
        var headers: HTTPFields = [.contentType: "application/json"]
        if code == 429 { headers[.retryAfter] = "0" }
        return Response(
            status: HTTPResponse.Status(code: code), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body.serialized))
        )
    }

    static func openAIType(_ status: Int) -> String {
        switch status {
        case 401: "invalid_request_error"
        case 403: "permission_error"
        case 429: "requests"
        case 500...: "server_error"
        default: "invalid_request_error"
        }
    }

    /// The code OpenAI sends with a scripted status.
    static func openAICode(_ status: Int) -> String? {
        switch status {
        case 401: "invalid_api_key"
        case 404: "model_not_found"
        case 429: "rate_limit_exceeded"
        default: nil
        }
    }

    static func anthropicType(_ status: Int) -> String {
        switch status {
        case 401: "authentication_error"
        case 402: "billing_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 504: "timeout_error"
        case 529: "overloaded_error"
        case 500...: "api_error"
        default: "invalid_request_error"
        }
    }
}
