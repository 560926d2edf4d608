import Logging

/// Log levels accepted in `logging.level` and `--log-level`.
public enum GatewayLogLevel: String, Sendable, CaseIterable {
    case trace, debug, info, notice, warning, error, critical

    public var loggerLevel: Logger.Level {
        switch self {
        case .trace: .trace
        case .debug: .debug
        case .info: .info
        case .notice: .notice
        case .warning: .warning
        case .error: .error
        case .critical: .critical
        }
    }
}
