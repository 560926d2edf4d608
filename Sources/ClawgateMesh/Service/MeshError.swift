/// A mesh operation refused, with a message for the caller. Transports map the kind to an HTTP
/// status (400/403/404/409/413) or an RPC error (`INVALID_REQUEST` / `FORBIDDEN`).
public struct MeshError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case invalidInput = "invalid_input"
        case notFound = "not_found"
        case forbidden
        case conflict
        case illegalTransition = "illegal_transition"
        case tooLarge = "too_large"
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    public var httpStatus: Int {
        switch kind {
        case .invalidInput: 400
        case .forbidden: 403
        case .notFound: 404
        case .conflict, .illegalTransition: 409
        case .tooLarge: 413
        }
    }
}
