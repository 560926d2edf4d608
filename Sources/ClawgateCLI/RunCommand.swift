import ArgumentParser
import ClawgateGateway
import Foundation
import Logging
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
        let settings: GatewaySettings
        do {
            let config = try ConfigParser.load(path: paths.configPath)
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
            var resolved = try GatewaySettings.resolve(config: config, overrides: overrides, paths: paths)
            var generated = false
            if resolved.authMode == .token && resolved.token == nil {
                let (token, created) = try GatewayTokenFile.loadOrCreate(paths: paths)
                resolved.token = token
                resolved.secretSource = .generated
                generated = created
            }
            settings = resolved
            try await serve(settings: settings, generatedToken: generated)
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

    private func serve(settings: GatewaySettings, generatedToken: Bool) async throws {
        let logFile = try? GatewayLogFile(path: settings.logFile)
        let level = settings.logLevel.loggerLevel
        LoggingSystem.bootstrap { label in GatewayLogHandler(label: label, level: level, file: logFile) }
        let logger = Logger(label: "clawgate")
        let server = try GatewayServer(settings: settings, logger: logger)
        try await server.run(signals: [.sigterm, .sigint]) { port in
            Self.printBanner(settings: settings, port: port, generatedToken: generatedToken)
            logger.info("gateway ready", metadata: ["url": "\(settings.connectURL(port: port))"])
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
