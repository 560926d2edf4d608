import Logging
import ServiceLifecycle
import Synchronization

/// Runs the listeners (and the gateway service with its timers) as a nested service group and
/// starts them again, in process, when a config change asks for a restart (`ListenerRestarts`).
/// The gateway's state is untouched by a restart; only sockets are closed (with a `shutdown`
/// event carrying `restartExpectedMs`, then 1012).
///
/// If the restarted listeners cannot start (the new port is taken), the settings that need a
/// restart go back to the ones that last worked, the failure is logged and reported as the
/// reload error, and the listeners start again as before: a bad port never takes the gateway down.
struct ListenerSupervisor: Service {
    let server: GatewayServer
    let onReady: @Sendable (Int) async -> Void

    func run() async throws {
        let core = server.core
        // Live mesh pushes go to this gateway's sockets; wired before the first connection.
        await core.mesh.setSink(core.meshConnections)
        do {
            try await superviseListeners()
        } catch {
            await core.agents.shutdown()
            throw error
        }
        await core.agents.shutdown()
    }

    private func superviseListeners() async throws {
        let core = server.core
        var lastWorking: GatewaySettings?
        while true {
            let (settings, version) = core.versionedSettings
            core.registry.reopen(maxPending: settings.limits.maxPreauthConnections)
            core.health.update(heartbeatSeconds: settings.limits.tickIntervalMs / 1000)
            let started = StartedFlag()
            let onReady = self.onReady
            // Port 0 ("any free port") keeps the port it got across restarts: clients know it.
            let port = settings.port == 0 ? (core.port ?? 0) : settings.port
            let group = server.makeListenerGroup(settings: settings, port: port) { port in
                started.set()
                await onReady(port)
            }
            core.restarts.started(group, settingsVersion: version)
            var failure: (any Error)?
            do {
                try await group.run()
            } catch {
                failure = error
            }
            let restart = core.restarts.stopped()
            if let failure {
                guard !started.value, let working = lastWorking, !Task.isCancelled, !Task.isShuttingDownGracefully else {
                    throw failure
                }
                let message = "listeners could not start with the new config: \(server.mapStartupError(failure))"
                await core.reloader.revertAfterListenerFailure(message, to: working, gateway: core)
                lastWorking = nil
                continue
            }
            if started.value { lastWorking = settings }
            guard let restart, !Task.isCancelled, !Task.isShuttingDownGracefully else { return }
            server.logger.notice("listeners restarting in process", metadata: ["reason": "\(restart.reason)"])
        }
    }
}

/// Whether a listener group got as far as listening.
private final class StartedFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .sequentiallyConsistent) }
    var value: Bool { flag.load(ordering: .sequentiallyConsistent) }
}
