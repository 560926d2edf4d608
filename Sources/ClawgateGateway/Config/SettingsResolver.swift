import Foundation

/// Turns a config into effective settings the same way at startup and on every reload: the
/// command-line flags and environment captured when the process started keep winning over the
/// file, and a token mode without a token uses the generated token file.
public struct SettingsResolver: Sendable {
    public var paths: GatewayPaths
    public var overrides: GatewayOverrides
    public var environment: [String: String]

    public init(
        paths: GatewayPaths, overrides: GatewayOverrides = .init(),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.paths = paths
        self.overrides = overrides
        self.environment = environment
    }

    /// The settings for `config`, and whether the token file was created just now.
    public func resolve(_ config: GatewayConfig) throws(GatewayStartupError) -> (settings: GatewaySettings, generatedToken: Bool) {
        var settings = try GatewaySettings.resolve(config: config, overrides: overrides, paths: paths, environment: environment)
        var generated = false
        if settings.authMode == .token && settings.token == nil {
            do {
                let (token, created) = try GatewayTokenFile.loadOrCreate(paths: paths)
                settings.token = token
                settings.secretSource = .generated
                generated = created
            } catch {
                throw .stateDirUnusable("cannot create the gateway token file \(paths.gatewayTokenFile): \(error)")
            }
        }
        return (settings, generated)
    }
}
