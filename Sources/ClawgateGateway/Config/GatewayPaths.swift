import Foundation

/// Where the gateway keeps its state and finds its config.
///
/// `OPENCLAW_STATE_DIR` (default `~/.clawgate`) and `OPENCLAW_CONFIG_PATH`
/// (default `<stateDir>/clawgate.json`), the same variables OpenClaw uses.
public struct GatewayPaths: Sendable, Equatable {
    public var stateDir: String
    public var configPath: String

    public init(stateDir: String, configPath: String? = nil) {
        self.stateDir = stateDir
        self.configPath = configPath ?? (stateDir as NSString).appendingPathComponent("clawgate.json")
    }

    public static func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) -> GatewayPaths {
        let home = environment["HOME"] ?? NSHomeDirectory()
        let stateDir = environment["OPENCLAW_STATE_DIR"].flatMap { $0.isEmpty ? nil : expandTilde($0, home: home) }
            ?? (home as NSString).appendingPathComponent(".clawgate")
        let configPath = environment["OPENCLAW_CONFIG_PATH"].flatMap { $0.isEmpty ? nil : expandTilde($0, home: home) }
        return GatewayPaths(stateDir: stateDir, configPath: configPath)
    }

    static func expandTilde(_ path: String, home: String) -> String {
        if path == "~" { return home }
        if path.hasPrefix("~/") { return home + path.dropFirst(1) }
        return path
    }

    public var logsDir: String { (stateDir as NSString).appendingPathComponent("logs") }
    public var logFile: String { (logsDir as NSString).appendingPathComponent("gateway.log") }
    /// The audit log (JSONL, append-only, rotated by size): see `AuditLog`.
    public var auditFile: String { (logsDir as NSString).appendingPathComponent("audit.jsonl") }
    public var credentialsDir: String { (stateDir as NSString).appendingPathComponent("credentials") }
    public var gatewayTokenFile: String { (credentialsDir as NSString).appendingPathComponent("gateway-token") }
    public var devicesDir: String { (stateDir as NSString).appendingPathComponent("devices") }
    public var identityDir: String { (stateDir as NSString).appendingPathComponent("identity") }
}
