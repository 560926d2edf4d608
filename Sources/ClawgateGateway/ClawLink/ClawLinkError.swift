import ClawgateMesh
import HTTPTypes

/// A ClawLink request refused: the HTTP status and the message of the `{"error": …}` body
/// (or of an `{"type":"error"}` frame on the push socket).
struct ClawLinkError: Error, Sendable, Equatable, CustomStringConvertible {
    var status: HTTPResponse.Status
    var message: String
    /// Extra response headers (`Retry-After`, `Allow`).
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    var description: String { message }

    static let unauthorizedMessage = "Unauthorized. Provide Authorization: Bearer <token>"
    static let unauthorized = ClawLinkError(.unauthorized, unauthorizedMessage)

    static func badRequest(_ message: String) -> ClawLinkError { ClawLinkError(.badRequest, message) }
    static func notFound(_ message: String) -> ClawLinkError { ClawLinkError(.notFound, message) }

    static func rateLimited(retryAfterMs: Int) -> ClawLinkError {
        let seconds = max(1, (retryAfterMs + 999) / 1000)
        return ClawLinkError(
            .tooManyRequests, "too many failed authentication attempts; retry after \(seconds) s",
            headers: [.retryAfter: "\(seconds)"]
        )
    }

    /// A mesh refusal keeps its message; its kind picks the status (400/403/404/409/413).
    init(_ error: MeshError) {
        self.init(HTTPResponse.Status(code: error.httpStatus), error.message)
    }
}
