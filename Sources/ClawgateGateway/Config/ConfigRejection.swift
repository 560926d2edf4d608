import ClawgateProtocol

/// Why a config was refused: the issues (key path + message) and one line naming the file,
/// e.g. `/root/.clawgate/clawgate.json: gateway.port: expected an integer from 1 to 65535, got 0`.
public struct ConfigRejection: Error, Sendable, CustomStringConvertible {
    public var issues: [ConfigIssue]
    public var description: String

    public init(_ error: ConfigError) {
        issues = [ConfigIssue(path: error.keyPath, message: error.message)]
        description = error.description
    }

    /// Settings errors start with the key path when they have one (`agents.list[0].model: …`).
    public init(_ error: GatewayStartupError, file: String) {
        let message: String
        if case .configInvalid(let text) = error { message = text } else { message = error.description }
        var issue = ConfigIssue(path: "", message: message)
        if let colon = message.range(of: ": "), !message[..<colon.lowerBound].contains(" "),
            ConfigKeyPath(parsing: String(message[..<colon.lowerBound])) != nil
        {
            issue = ConfigIssue(path: String(message[..<colon.lowerBound]), message: String(message[colon.upperBound...]))
        }
        issues = [issue]
        description = "\(file): \(message)"
    }

    public init(message: String) {
        issues = [ConfigIssue(path: "", message: message)]
        description = message
    }

    var issuesJSON: JSONValue {
        .array(issues.map { ["path": .string($0.path), "message": .string($0.message)] })
    }

    /// Checks a config tree strictly (keys, types, ranges) and resolves its settings with
    /// `resolve` (cross-key rules: providers of agent models, secrets for the auth mode, ...).
    public static func check(
        _ tree: JSONValue, file: String, resolve: (GatewayConfig) throws(GatewayStartupError) -> GatewaySettings
    ) throws(ConfigRejection) -> (GatewayConfig, GatewaySettings) {
        let config: GatewayConfig
        do {
            config = try ConfigParser.parse(tree: tree, file: file)
        } catch {
            throw ConfigRejection(error)
        }
        do {
            return (config, try resolve(config))
        } catch {
            throw ConfigRejection(error, file: file)
        }
    }
}
