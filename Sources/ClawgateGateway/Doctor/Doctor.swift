import Foundation

/// `clawgate doctor`: checks a gateway installation without needing it to run — the config
/// (with line numbers), state-dir permissions, the mesh store's integrity, the port, the
/// providers' reachability and the clock — and with `fix` repairs what is safe to repair
/// (permissions, missing directories), saying what it did.
public struct Doctor: Sendable {
    public var paths: GatewayPaths
    public var environment: [String: String]
    public var fix: Bool
    /// How long a provider may take to accept a TCP connection.
    public var providerTimeout: Duration = .seconds(3)

    public init(paths: GatewayPaths, environment: [String: String], fix: Bool) {
        self.paths = paths
        self.environment = environment
        self.fix = fix
    }

    public func run() async -> DoctorReport {
        var findings: [DoctorFinding] = []
        let config = checkConfig()
        findings += config.findings
        findings += checkPermissions()
        findings.append(checkStore())
        findings.append(await checkPort(settings: config.settings, config: config.config))
        findings += await checkProviders(config: config.config)
        findings += await checkClock()
        return DoctorReport(findings: findings)
    }
}
