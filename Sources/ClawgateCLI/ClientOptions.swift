import ArgumentParser
import ClawgateClient
import ClawgateGateway
import ClawgateProtocol
import Foundation

/// Where client commands find the gateway and credentials: flags, then environment, then the
/// local config and state dir. With `--url`, config credentials are not used.
struct ClientOptions: ParsableArguments {
    @Option(help: "Gateway URL (default: from config, else ws://127.0.0.1:<port>).")
    var url: String?

    @Option(help: "Shared token (default: OPENCLAW_GATEWAY_TOKEN, config, or the local generated token).")
    var token: String?

    @Option(help: "Shared password (default: OPENCLAW_GATEWAY_PASSWORD or config).")
    var password: String?

    @Option(help: "Timeout in milliseconds.")
    var timeout: Int = 10_000

    struct Resolved {
        var options: GatewayClientOptions
        var store: DeviceIdentityStore
    }

    func resolve(scopes: [String] = OperatorScope.cliDefaults) throws -> Resolved {
        let environment = ProcessInfo.processInfo.environment
        let paths = GatewayPaths.resolve(environment: environment)
        let config = (try? ConfigParser.load(path: paths.configPath)) ?? GatewayConfig()
        let explicitURL = url ?? environment["OPENCLAW_GATEWAY_URL"].flatMap { $0.isEmpty ? nil : $0 }
        let target: String
        if let explicitURL {
            target = explicitURL
        } else if let remote = config.gateway.remote.url {
            target = remote
        } else {
            let port = environment["OPENCLAW_GATEWAY_PORT"].flatMap(Int.init) ?? config.gateway.port ?? GatewaySettings.defaultPort
            target = "ws://127.0.0.1:\(port)"
        }
        func env(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        var token = self.token ?? env("OPENCLAW_GATEWAY_TOKEN")
        var password = self.password ?? env("OPENCLAW_GATEWAY_PASSWORD")
        // An explicit URL (flag or OPENCLAW_GATEWAY_URL) may point anywhere: never send it the
        // local gateway's secrets.
        if explicitURL == nil {
            token = token ?? config.gateway.remote.token?.reveal() ?? config.gateway.auth.token?.reveal()
                ?? GatewayTokenFile.load(paths: paths)?.reveal()
            password = password ?? config.gateway.remote.password?.reveal() ?? config.gateway.auth.password?.reveal()
        }
        let store = DeviceIdentityStore(directory: paths.identityDir)
        let identity = try store.loadOrCreateIdentity()
        #if os(Linux)
        let platform = "linux"
        #else
        let platform = "darwin"
        #endif
        let options = GatewayClientOptions(
            url: target, token: token, password: password, deviceToken: store.deviceToken(url: target, role: "operator"),
            client: ClientInfo(id: "cli", version: GatewaySettings.version, platform: platform, mode: "cli"),
            role: "operator", scopes: scopes, device: identity,
            requestTimeout: .milliseconds(max(timeout, 1))
        )
        return Resolved(options: options, store: store)
    }

    /// Connects, runs `body`, and keeps any device token the gateway issued.
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (GatewayConnection) async throws -> T) async throws -> T {
        let resolved = try resolve()
        let options = resolved.options
        let store = resolved.store
        return try await GatewayClient.withTimeout(.milliseconds(max(timeout, 1)), "gateway at \(options.url) did not answer within \(timeout) ms") {
            try await GatewayClient.withConnection(options) { connection in
                if let issued = connection.hello.auth?.deviceToken {
                    try? store.saveDeviceToken(issued, url: options.url, role: options.role)
                }
                return try await body(connection)
            }
        }
    }
}

/// Shared output helpers.
enum Output {
    static func json(_ value: JSONValue, pretty: Bool) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    static func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("clawgate: \(message)\n".utf8))
        return ExitCode(1)
    }
}
