import ArgumentParser
import ClawgateGateway
import Foundation
import Logging
import Synchronization
import UnixSignals

/// `clawgate gateway run` (the default): the gateway in the foreground.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run the gateway in the foreground (default command)."
    )

    @Option(help: "Port (overrides OPENCLAW_GATEWAY_PORT and gateway.port; default 18789; 0 = any free port).")
    var port: Int?

    @Option(help: "Bind mode: loopback (default), lan, custom.")
    var bind: String?

    @Option(help: "Host to bind when --bind custom.")
    var host: String?

    @Option(help: "Auth mode: token, password, trusted-proxy, none.")
    var auth: String?

    @Option(help: "Shared token (prefer OPENCLAW_GATEWAY_TOKEN: flags are visible in the process list).")
    var token: String?

    @Option(help: "Shared password (prefer OPENCLAW_GATEWAY_PASSWORD).")
    var password: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info (default), notice, warning, error, critical.")
    var logLevel: String?

    func run() async throws {
        let paths = GatewayPaths.resolve()
        do {
            var overrides = GatewayOverrides(
                port: port, customBindHost: host, token: token.map(Secret.init), password: password.map(Secret.init),
                logLevel: logLevel
            )
            if let bind {
                guard let mode = BindMode(rawValue: bind) else {
                    throw GatewayStartupError.configInvalid("--bind: expected loopback, lan or custom, got \"\(bind)\"")
                }
                overrides.bind = mode
            }
            if let auth {
                guard let mode = AuthMode(rawValue: auth) else {
                    throw GatewayStartupError.configInvalid("--auth: expected token, password, trusted-proxy or none, got \"\(auth)\"")
                }
                overrides.authMode = mode
            }
            if let port, !(0...65535).contains(port) {
                throw GatewayStartupError.configInvalid("--port: expected 0 to 65535, got \(port)")
            }
            // The same resolver serves every config reload: flags and environment keep winning.
            let (source, settings, generated) = try ConfigSource.load(resolver: SettingsResolver(paths: paths, overrides: overrides))
            try await serve(settings: settings, source: source, generatedToken: generated)
        } catch let error as ConfigError {
            Self.fail("invalid configuration: \(error)", code: 78)
        } catch let error as GatewayStartupError {
            Self.fail(error.description, code: error.exitCode)
        }
    }

    static func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("clawgate: \(message)\n".utf8))
        Foundation.exit(code)
    }

    private func serve(settings: GatewaySettings, source: ConfigSource, generatedToken: Bool) async throws {
        let logFile = try? GatewayLogFile(path: settings.logFile)
        let logControl = GatewayLogControl(level: settings.logLevel.loggerLevel, file: logFile)
        LoggingSystem.bootstrap { label in GatewayLogHandler(label: label, control: logControl) }
        let logger = Logger(label: "clawgate")
        let server = try GatewayServer(settings: settings, logger: logger, configSource: source, logControl: logControl)
        let starts = StartCount()
        try await server.run(signals: [.sigterm, .sigint]) { port in
            // Called again when a config change restarted the listeners in process.
            let current = server.core.settings
            let first = starts.next() == 1
            if first {
                Self.printBanner(settings: current, port: port, generatedToken: generatedToken)
                logger.info("gateway ready", metadata: ["url": "\(current.connectURL(port: port))"])
            } else {
                let url = current.connectURL(port: port)
                FileHandle.standardOutput.write(Data("Clawgate restarted after a config change; listening on \(url)\n".utf8))
                logger.notice("gateway ready again after a config change", metadata: ["url": "\(url)"])
            }
        }
        logger.info("gateway stopped")
    }

    static func printBanner(settings: GatewaySettings, port: Int, generatedToken: Bool) {
        let url = settings.connectURL(port: port)
        let httpURL = url.replacingOccurrences(of: "ws://", with: "http://")
        var lines = ["Clawgate \(GatewaySettings.version) listening on \(url)"]
        if settings.bind == .loopback { lines[0] += " (and ws://[::1]:\(port))" }
        switch settings.authMode {
        case .token:
            if settings.secretSource == .generated {
                lines.append(
                    "  auth:    token (\(generatedToken ? "generated now" : "generated earlier"); stored in \(settings.paths.gatewayTokenFile), mode 0600)"
                )
            } else {
                lines.append("  auth:    token (from the \(settings.secretSource?.rawValue ?? "configuration"))")
            }
        case .password:
            lines.append("  auth:    password (from the \(settings.secretSource?.rawValue ?? "configuration"))")
        case .trustedProxy:
            lines.append("  auth:    trusted-proxy")
        case .none:
            lines.append("  auth:    none (loopback only)")
        }
        lines.append("  check:   clawgate gateway status --require-rpc")
        if settings.authMode == .token && settings.secretSource == .generated {
            lines.append("  clients: url \(url), token: the contents of \(settings.paths.gatewayTokenFile)")
        } else {
            lines.append("  clients: url \(url) with the configured \(settings.authMode.rawValue)")
        }
        lines.append("  health:  \(httpURL)/health")
        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}

/// How often the listeners came up (the first time prints the banner).
private final class StartCount: Sendable {
    private let count = Mutex(0)

    func next() -> Int {
        count.withLock { count in
            count += 1
            return count
        }
    }
}
