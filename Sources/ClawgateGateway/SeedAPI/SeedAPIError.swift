import ClawgateMesh
import ClawgateProtocol
import HTTPTypes
import Hummingbird

/// Refusals of the seed-000 API: `{"error": "<message>", "code": "<kind>"}`. Mesh refusals keep
/// their kind (`invalid_input`, `forbidden`, `not_found`, `conflict`, `illegal_transition`,
/// `too_large`) and its status (`MeshError.httpStatus`); the API's own refusals (shared with
/// ClawLink: auth, body, …) get the kind of their status.
enum SeedAPIError {
    static func code(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: MeshError.Kind.invalidInput.rawValue
        case 401: "unauthorized"
        case 403: MeshError.Kind.forbidden.rawValue
        case 404: MeshError.Kind.notFound.rawValue
        case 405: "method_not_allowed"
        case 409: MeshError.Kind.conflict.rawValue
        case 413: MeshError.Kind.tooLarge.rawValue
        case 429: "rate_limited"
        case 503: "unavailable"
        default: "internal_error"
        }
    }

    static func response(_ error: ClawLinkError) -> Response {
        var response = ClawLinkRoutes.json(error.status, ["error": .string(error.message), "code": .string(code(for: error.status))])
        response.headers.append(contentsOf: error.headers)
        return response
    }

    static func response(_ error: MeshError) -> Response {
        ClawLinkRoutes.json(
            HTTPResponse.Status(code: error.httpStatus), ["error": .string(error.message), "code": .string(error.kind.rawValue)]
        )
    }
}
