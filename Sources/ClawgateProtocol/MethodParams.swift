/// Parameters of a method: a closed object whose allowed property names are listed, so unknown
/// keys are rejected with a clear message instead of being silently ignored.
public protocol MethodParams: Codable, Sendable {
    static var fields: Set<String> { get }
}

/// Methods that take no parameters accept `{}` or no `params` at all.
public struct EmptyParams: MethodParams, Equatable {
    public static let fields: Set<String> = []
    public init() {}
}
