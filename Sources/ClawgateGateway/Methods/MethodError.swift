import ClawgateProtocol

/// A handler's way to fail with a protocol error the client can act on.
public struct MethodError: Error, Sendable {
    public var shape: ErrorShape

    public init(_ shape: ErrorShape) {
        self.shape = shape
    }

    public static func invalidRequest(_ message: String, details: JSONValue? = nil) -> MethodError {
        MethodError(ErrorShape(code: ErrorCode.invalidRequest, message: message, details: details))
    }

    public static func unavailable(_ message: String) -> MethodError {
        MethodError(ErrorShape(code: ErrorCode.unavailable, message: message, retryable: true))
    }
}
