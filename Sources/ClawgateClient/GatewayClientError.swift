import ClawgateProtocol

/// Why a client call failed, in terms a CLI can print directly.
public enum GatewayClientError: Error, Sendable, CustomStringConvertible {
    /// No gateway answered at the URL.
    case unreachable(url: String, reason: String)
    /// The gateway refused `connect`.
    case connectRejected(ErrorShape, closeCode: UInt16?, closeReason: String?)
    /// A request got an error response.
    case requestFailed(method: String, ErrorShape)
    /// The socket closed before an answer arrived.
    case closed(code: UInt16?, reason: String?)
    case timeout(String)
    case invalidResponse(String)

    public var description: String {
        switch self {
        case .unreachable(let url, let reason):
            "gateway unreachable at \(url): \(reason) (is `clawgate gateway run` running?)"
        case .connectRejected(let error, let code, _):
            "connect rejected: \(error.code): \(error.message)" + (code.map { " (close \($0))" } ?? "")
        case .requestFailed(let method, let error):
            "\(method) failed: \(error.code): \(error.message)"
        case .closed(let code, let reason):
            "connection closed" + (code.map { " with \($0)" } ?? "") + (reason.map { " (\($0))" } ?? "")
        case .timeout(let what):
            "timed out: \(what)"
        case .invalidResponse(let message):
            "invalid response from gateway: \(message)"
        }
    }
}
