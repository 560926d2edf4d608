import ClawgateProtocol
import Logging
import ServiceLifecycle

/// The gateway's own background work — health refresh, readiness checks, mesh sweeps, the
/// lateness probe — and its orderly shutdown: broadcast `shutdown`, close every socket with 1012,
/// then let the listeners stop. For an in-process restart (config change) the `shutdown` event
/// says so (`restartExpectedMs`) and agent runs keep going.
///
/// It is the last service in the group, so ServiceLifecycle shuts it down first, while the
/// listeners are still up to carry the close frames.
struct GatewayService: Service {
    let gateway: GatewayCore
    /// The limits the listeners of this run were started with.
    let limits: GatewaySettings.Limits

    func run() async throws {
        let limits = self.limits
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(limits.healthRefreshMs))
                    if Task.isCancelled { break }
                    await gateway.refreshHealth()
                }
            }
            group.addTask {
                // Readiness: the mesh store and the providers' reachability, first at once.
                while !Task.isCancelled {
                    let before = gateway.readiness.summary.failing
                    await gateway.checkReadiness()
                    if gateway.readiness.summary.failing != before { await gateway.refreshHealth() }
                    try? await Task.sleep(for: .milliseconds(gateway.readinessIntervalMs))
                }
            }
            group.addTask {
                // Mesh housekeeping: lease expiry and redelivery, deadlines, queued routing,
                // agent expiry, retention.
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(gateway.settings.meshSweepIntervalMs))
                    if Task.isCancelled { break }
                    do {
                        try await gateway.mesh.sweep()
                    } catch {
                        gateway.logger.error("mesh sweep failed", metadata: ["error": "\(error)"])
                    }
                }
            }
            group.addTask {
                // Event-loop lateness: how much later than asked a 100 ms sleep wakes up. A
                // blocked or saturated scheduler delays every socket; this shows it first.
                let period = Duration.milliseconds(100)
                while !Task.isCancelled {
                    let start = ContinuousClock.now
                    guard (try? await Task.sleep(for: period)) != nil else { break }
                    gateway.metrics.recordLateness(ContinuousClock.now - start - period)
                }
            }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        let wasServing = gateway.isReady
        gateway.markStopping()
        let open = gateway.registry.all.count
        let restart = gateway.restarts.pending
        gateway.logger.info(restart == nil ? "gateway stopping" : "listeners stopping for a restart", metadata: ["connections": "\(open)"])
        if restart == nil && wasServing {
            // Runs end first, so their clients still get the aborted events before the sockets close.
            await gateway.agents.shutdown()
        }
        // ClawLink push sockets would hold the listeners open; their agents reconnect.
        for socket in gateway.meshConnections.clawLink.sockets.all {
            socket.close(code: GatewayCloseCode.serviceRestart, reason: "service restart")
        }
        await gateway.registry.shutdown(
            reason: restart?.reason ?? "gateway stopping", restartExpectedMs: restart.map { _ in ListenerRestarts.expectedDowntimeMs },
            timeout: .seconds(5)
        )
    }
}
