import ClawgateProtocol
import Logging
import ServiceLifecycle

/// The gateway's own background work — ticks, health refresh, readiness checks, mesh sweeps —
/// and its orderly shutdown:
/// broadcast `shutdown`, close every socket with 1012, then let the listeners stop.
///
/// It is the last service in the group, so ServiceLifecycle shuts it down first, while the
/// listeners are still up to carry the close frames.
struct GatewayService: Service {
    let gateway: GatewayCore

    func run() async throws {
        let limits = gateway.settings.limits
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(limits.tickIntervalMs))
                    if Task.isCancelled { break }
                    gateway.broadcastTick()
                }
            }
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
            try? await gracefulShutdown()
            group.cancelAll()
        }
        gateway.markStopping()
        let open = gateway.registry.all.count
        gateway.logger.info("gateway stopping", metadata: ["connections": "\(open)"])
        // Runs end first, so their clients still get the aborted events before the sockets close.
        await gateway.agents.shutdown()
        await gateway.registry.shutdown(reason: "gateway stopping", restartExpectedMs: nil, timeout: .seconds(5))
    }
}
