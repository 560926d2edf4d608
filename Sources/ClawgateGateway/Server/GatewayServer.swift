import ClawgateProtocol
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// The gateway process: HTTP and WebSocket on one port (one listener per bind address), the
/// gateway service and the config watcher, run as one ServiceLifecycle group. The listeners run
/// as a nested group that a config change can restart in process (`ListenerSupervisor`).
public final class GatewayServer: Sendable {
    public let core: GatewayCore
    let logger: Logger

    /// - configSource: the config file as read at startup and the flags/environment that
    ///   resolved it (reloads reuse them); without one, reloads resolve the file with the
    ///   process environment and no flags.
    /// - logControl: the level and file the process's log handlers read, so reloads can change them.
    public init(
        settings: GatewaySettings, logger: Logger, configSource: ConfigSource? = nil, logControl: GatewayLogControl? = nil
    ) throws {
        try FileManager.default.createDirectory(
            atPath: settings.paths.stateDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]
        )
        let source =
            configSource
            ?? ConfigSource(
                resolver: SettingsResolver(paths: settings.paths),
                document: (try? ConfigDocument.read(path: settings.paths.configPath))
                    ?? ConfigDocument(path: settings.paths.configPath, data: nil)
            )
        self.core = try GatewayCore(settings: settings, logger: logger, configSource: source, logControl: logControl)
        self.logger = logger
    }

    /// Runs until a graceful shutdown (one of `signals`, or `triggerGracefulShutdown` on the
    /// group) or cancellation. `onReady` receives the bound port each time the listeners are up
    /// (again after an in-process restart).
    public func run(
        signals: [UnixSignal] = [], onReady: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        // The first clients already get a health snapshot of the real state.
        await core.refreshHealth()
        let core = self.core
        let logger = self.logger
        let pid = getpid()
        let group = try makeServiceGroup(signals: signals) { port in
            do {
                try GatewayInstanceFile.write(
                    GatewayInstance(
                        pid: pid, port: port, url: core.settings.connectURL(port: port), stateDir: core.settings.paths.stateDir,
                        version: GatewaySettings.version, startedAtMs: core.startedAtMs
                    )
                )
            } catch {
                logger.warning("could not write the instance file", metadata: ["error": "\(error)"])
            }
            // Ready now: the snapshot must no longer say "starting".
            await core.refreshHealth()
            await onReady(port)
        }
        defer { GatewayInstanceFile.remove(stateDir: core.settings.paths.stateDir, pid: pid) }
        do {
            try await group.run()
        } catch {
            throw mapStartupError(error)
        }
    }

    /// The service group, for callers that want to trigger shutdown themselves.
    public func makeServiceGroup(
        signals: [UnixSignal] = [], onReady: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> ServiceGroup {
        let services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: ListenerSupervisor(server: self, onReady: onReady)),
            // Last, so it stops first: no reload starts while the listeners wind down.
            .init(service: ConfigWatcher(gateway: core)),
        ]
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: signals, logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(15)
        // After the graceful phase, cancellation gets this long before ServiceLifecycle gives up
        // (it crashes the process): generous, so a loaded machine is not mistaken for a hang.
        configuration.maximumCancellationDuration = .seconds(15)
        return ServiceGroup(configuration: configuration)
    }

    /// One run of the listeners and the gateway service with the settings in force, on `port`.
    func makeListenerGroup(
        settings: GatewaySettings, port: Int, onReady: @escaping @Sendable (Int) async -> Void
    ) -> ServiceGroup {
        let hosts = settings.bindHosts
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(1))
        let core = self.core
        let primary = makeApplication(host: hosts[0], port: port, limits: settings.limits) { port in
            core.serverStarted(port: port)
            portContinuation.yield(port)
            portContinuation.finish()
            await onReady(port)
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: primary)]
        for host in hosts.dropFirst() {
            services.append(
                .init(
                    service: SecondaryListener(server: self, host: host, limits: settings.limits, ports: portStream),
                    successTerminationBehavior: .ignore
                )
            )
        }
        services.append(.init(service: GatewayService(gateway: core, limits: settings.limits)))
        var configuration = ServiceGroupConfiguration(services: services, logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(15)
        configuration.maximumCancellationDuration = .seconds(15)
        return ServiceGroup(configuration: configuration)
    }

    func makeApplication(
        host: String, port: Int, limits: GatewaySettings.Limits, onRunning: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        let core = self.core
        let router = GatewayHTTPRoutes.build(gateway: core)
        let httpPaths = GatewayHTTPRoutes.paths
        return Application(
            router: router,
            server: HTTPServerBuilder { responder in
                GatewayChildChannel(responder: responder, core: core, limits: limits, httpPaths: httpPaths)
            },
            configuration: .init(address: .hostname(host, port: port), serverName: nil, reuseAddress: true),
            onServerRunning: { channel in
                await onRunning(channel.localAddress?.port ?? port)
            },
            logger: logger
        )
    }

    func mapStartupError(_ error: any Error) -> any Error {
        let settings = core.settings
        let url = settings.connectURL(port: settings.port)
        if let ioError = error as? IOError {
            if ioError.errnoCode == EADDRINUSE { return GatewayStartupError.addressInUse(url: url) }
            return GatewayStartupError.bindFailed(url: url, cause: "\(ioError)")
        }
        let text = "\(error)"
        if text.contains("Address already in use") || text.contains("EADDRINUSE") || text.contains("errno: 98") {
            return GatewayStartupError.addressInUse(url: url)
        }
        return error
    }
}

/// A second listener (`::1` for loopback binds) on the port the primary one got.
/// Failing to bind it is logged, not fatal: hosts without IPv6 still get a gateway.
struct SecondaryListener: Service {
    let server: GatewayServer
    let host: String
    /// Only the limits (ServiceLifecycle logs a service's description; settings hold secrets).
    let limits: GatewaySettings.Limits
    let ports: AsyncStream<Int>

    func run() async throws {
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { return }
        let application = server.makeApplication(host: host, port: port, limits: limits) { _ in }
        do {
            try await application.run()
        } catch is CancellationError {
            return
        } catch {
            server.logger.warning(
                "could not also listen on \(host):\(port); continuing with the primary address",
                metadata: ["error": "\(error)"]
            )
            try? await gracefulShutdown()
        }
    }
}
