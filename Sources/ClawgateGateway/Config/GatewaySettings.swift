import ClawgateMesh
import ClawgateProtocol
import Foundation

/// Values given on the command line; they win over environment and config.
public struct GatewayOverrides: Sendable, Equatable {
    public var port: Int?
    public var bind: BindMode?
    public var customBindHost: String?
    public var authMode: AuthMode?
    public var token: Secret?
    public var password: Secret?
    public var logLevel: String?

    public init(
        port: Int? = nil, bind: BindMode? = nil, customBindHost: String? = nil, authMode: AuthMode? = nil,
        token: Secret? = nil, password: Secret? = nil, logLevel: String? = nil
    ) {
        self.port = port
        self.bind = bind
        self.customBindHost = customBindHost
        self.authMode = authMode
        self.token = token
        self.password = password
        self.logLevel = logLevel
    }
}

/// Where a shared secret came from, for the startup banner (never the secret itself).
public enum SecretSource: String, Sendable, Equatable {
    case flag = "command line"
    case environment = "environment"
    case config = "config file"
    case generated = "generated token file"
}

/// The effective gateway settings: flags > environment > config file > defaults.
public struct GatewaySettings: Sendable {
    public static let defaultPort = 18789
    public static let version = "0.1.0"

    public var paths: GatewayPaths
    public var port: Int
    public var bind: BindMode
    public var customBindHost: String?
    public var authMode: AuthMode
    public var token: Secret?
    public var password: Secret?
    public var secretSource: SecretSource?
    public var rateLimit: AuthRateLimiter.Policy
    public var trustedProxy: GatewayConfig.TrustedProxy
    public var trustedProxies: [ClientAddress]
    public var configuredOrigins: [String]
    public var autoApproveLocalPairing: Bool
    public var limits: Limits
    public var logLevel: GatewayLogLevel
    public var logFile: String
    public var mesh: MeshSettings
    public var meshSweepIntervalMs: Int
    public var agents: AgentsSettings
    /// `gateway.metrics.public`: `/metrics` without auth.
    public var metricsPublic = false
    /// `gateway.reload.mode`: what a change of the config file does.
    public var reloadMode: ReloadMode = .default

    public struct Limits: Sendable, Equatable {
        /// Largest frame accepted after the handshake (`policy.maxPayload`).
        public var maxPayloadBytes = 25 * 1024 * 1024
        /// Per-connection outbound buffer before a slow reader is cut off (`policy.maxBufferedBytes`).
        public var maxBufferedBytes = 50 * 1024 * 1024
        /// Largest frame accepted before `connect` succeeds.
        public var maxPreauthPayloadBytes = 64 * 1024
        public var handshakeTimeoutMs = 10_000
        public var tickIntervalMs = 30_000
        public var healthRefreshMs = 60_000
        /// Sockets that have not finished `connect` yet; more are refused with 1013.
        public var maxPreauthConnections = 256
        /// How long a response may wait for room in a full outbound buffer before the client is
        /// closed as a slow consumer.
        public var slowConsumerTimeoutMs = 10_000
        /// A WebSocket peer silent this long is pinged; one still silent an interval later is
        /// closed with 1001 "ping timeout".
        public var pingIntervalMs = 30_000
        public init() {}
    }

    /// The addresses to listen on.
    public var bindHosts: [String] {
        switch bind {
        case .loopback: ["127.0.0.1", "::1"]
        case .lan: ["0.0.0.0"]
        case .custom: [customBindHost ?? "127.0.0.1"]
        }
    }

    public var isLoopbackOnly: Bool {
        bindHosts.allSatisfy { ClientAddress(ip: $0)?.isLoopback ?? ($0 == "localhost") }
    }

    /// The address clients on this machine should use.
    public func connectURL(port actualPort: Int) -> String {
        let host = bindHosts.first ?? "127.0.0.1"
        let display = host == "0.0.0.0" ? "127.0.0.1" : (host.contains(":") ? "[\(host)]" : host)
        return "ws://\(display):\(actualPort)"
    }

    public static func resolve(
        config: GatewayConfig, overrides: GatewayOverrides = .init(), paths: GatewayPaths,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(GatewayStartupError) -> GatewaySettings {
        if config.gateway.mode == "remote" {
            throw .configInvalid("Gateway start blocked: set gateway.mode=local (this config says \"remote\")")
        }
        var envPort: Int?
        if let raw = environment["OPENCLAW_GATEWAY_PORT"], !raw.isEmpty {
            guard let value = Int(raw), (1...65535).contains(value) else {
                throw .configInvalid("OPENCLAW_GATEWAY_PORT: expected an integer from 1 to 65535, got \"\(raw)\"")
            }
            envPort = value
        }
        let port = overrides.port ?? envPort ?? config.gateway.port ?? defaultPort
        let bind = overrides.bind ?? config.gateway.bind ?? .loopback
        let customHost = overrides.customBindHost ?? config.gateway.customBindHost
        if bind == .custom && customHost == nil {
            throw .configInvalid("bind mode \"custom\" needs a host (--host or gateway.customBindHost)")
        }

        func envSecret(_ name: String) -> Secret? {
            environment[name].flatMap { $0.isEmpty ? nil : Secret($0) }
        }
        var token: Secret?
        var tokenSource: SecretSource?
        if let value = overrides.token {
            (token, tokenSource) = (value, .flag)
        } else if let value = envSecret("OPENCLAW_GATEWAY_TOKEN") {
            (token, tokenSource) = (value, .environment)
        } else if let value = config.gateway.auth.token {
            (token, tokenSource) = (value, .config)
        }
        var password: Secret?
        var passwordSource: SecretSource?
        if let value = overrides.password {
            (password, passwordSource) = (value, .flag)
        } else if let value = envSecret("OPENCLAW_GATEWAY_PASSWORD") {
            (password, passwordSource) = (value, .environment)
        } else if let value = config.gateway.auth.password {
            (password, passwordSource) = (value, .config)
        }
        let mode: AuthMode =
            overrides.authMode ?? config.gateway.auth.mode
            ?? ((password != nil && token == nil) ? .password : .token)

        var settings = GatewaySettings(
            paths: paths, port: port, bind: bind, customBindHost: customHost, authMode: mode, token: token,
            password: password, secretSource: mode == .password ? passwordSource : tokenSource,
            rateLimit: AuthRateLimiter.Policy(
                maxAttempts: config.gateway.auth.rateLimit.maxAttempts ?? 10,
                windowMs: config.gateway.auth.rateLimit.windowMs ?? 60_000,
                lockoutMs: config.gateway.auth.rateLimit.lockoutMs ?? 300_000,
                exemptLoopback: config.gateway.auth.rateLimit.exemptLoopback ?? true
            ),
            trustedProxy: config.gateway.auth.trustedProxy,
            trustedProxies: config.gateway.trustedProxies.compactMap { ClientAddress(ip: $0) },
            configuredOrigins: config.gateway.controlUi.allowedOrigins,
            autoApproveLocalPairing: config.gateway.autoApproveLocalPairing ?? true,
            limits: Limits(), logLevel: .info,
            logFile: config.logging.file ?? paths.logFile,
            mesh: config.mesh.settings, meshSweepIntervalMs: config.mesh.sweepIntervalMs ?? 1_000,
            agents: try AgentsSettings.resolve(config.agents, environment: environment)
        )
        settings.reloadMode = ReloadMode(config: config)
        let limits = config.gateway.limits
        if let v = limits.maxPayloadBytes { settings.limits.maxPayloadBytes = v }
        settings.limits.maxBufferedBytes = limits.maxBufferedBytes ?? settings.limits.maxPayloadBytes * 2
        if let v = limits.handshakeTimeoutMs { settings.limits.handshakeTimeoutMs = v }
        if let v = limits.tickIntervalMs { settings.limits.tickIntervalMs = v }
        if let v = limits.healthRefreshMs { settings.limits.healthRefreshMs = v }
        if let v = limits.maxPreauthConnections { settings.limits.maxPreauthConnections = v }
        if let v = limits.slowConsumerTimeoutMs { settings.limits.slowConsumerTimeoutMs = v }
        if let v = limits.pingIntervalMs { settings.limits.pingIntervalMs = v }
        settings.metricsPublic = config.gateway.metrics.isPublic ?? false
        if let level = overrides.logLevel ?? config.logging.level {
            guard let parsed = GatewayLogLevel(rawValue: level) else {
                throw .configInvalid("log level: expected one of \(GatewayLogLevel.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(level)\"")
            }
            settings.logLevel = parsed
        }
        try settings.checkAuthIsUsable()
        return settings
    }

    /// Fail closed: a gateway reachable from the network must authenticate its clients.
    func checkAuthIsUsable() throws(GatewayStartupError) {
        switch authMode {
        case .none:
            if !isLoopbackOnly { throw .refusingToBindWithoutAuth(bind: bindDescription) }
        case .password:
            if password == nil {
                throw .configInvalid(
                    "gateway.auth.mode is \"password\" but no password is set (gateway.auth.password, OPENCLAW_GATEWAY_PASSWORD or --password)"
                )
            }
        case .trustedProxy:
            if trustedProxy.userHeader == nil || trustedProxies.isEmpty {
                if !isLoopbackOnly { throw .refusingToBindWithoutAuth(bind: bindDescription) }
                throw .configInvalid(
                    "gateway.auth.mode is \"trusted-proxy\" but gateway.auth.trustedProxy.userHeader and gateway.trustedProxies are not both set"
                )
            }
        case .token:
            break  // a missing token is generated at startup
        }
    }

    var bindDescription: String {
        bind == .custom ? (customBindHost ?? "custom") : bind.rawValue
    }
}

/// Why the gateway could not start, with the exit code operators and supervisors expect.
public enum GatewayStartupError: Error, Sendable, Equatable, CustomStringConvertible {
    case refusingToBindWithoutAuth(bind: String)
    case configInvalid(String)
    case addressInUse(url: String)
    case bindFailed(url: String, cause: String)
    case stateDirUnusable(String)

    public var description: String {
        switch self {
        case .refusingToBindWithoutAuth(let bind):
            "Refusing to bind gateway to \(bind) without auth (set OPENCLAW_GATEWAY_TOKEN or --token, or gateway.auth.mode \"token\"/\"password\")"
        case .configInvalid(let message):
            "invalid configuration: \(message)"
        case .addressInUse(let url):
            "another gateway instance is already listening on \(url)"
        case .bindFailed(let url, let cause):
            "failed to bind gateway socket on \(url): \(cause)"
        case .stateDirUnusable(let message):
            "state directory unusable: \(message)"
        }
    }

    /// 78 (EX_CONFIG) for configuration problems, 1 otherwise.
    public var exitCode: Int32 {
        switch self {
        case .refusingToBindWithoutAuth, .configInvalid: 78
        case .addressInUse, .bindFailed, .stateDirUnusable: 1
        }
    }
}
