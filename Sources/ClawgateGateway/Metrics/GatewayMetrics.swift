import ClawgateMesh
import ClawgateProtocol
import CoreMetrics
import Foundation
import Prometheus

/// One gateway's metrics: its own Prometheus registry (never the process-wide
/// `MetricsSystem`, so hundreds of gateways can run in one test process), the series the
/// gateway records itself, the factory its domain modules record through, and the scrape.
final class GatewayMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    /// For the LLM router and the agent runtime (swift-metrics; adds the HELP text).
    let factory: any CoreMetrics.MetricsFactory
    let rpc: RPCMetrics
    let mesh: MeshMetrics
    private let outbound: [SocketKind: OutboundQueueMetrics]
    private let lateness: DurationHistogram
    private let operators: Prometheus.Gauge
    private let nodes: Prometheus.Gauge
    private let pending: Prometheus.Gauge
    private let uptime: Prometheus.Gauge
    private let startedAt = ContinuousClock.now

    init(version: String) {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        factory = DescribedMetricsFactory(registry: registry)
        rpc = RPCMetrics(registry: registry)
        mesh = MeshMetrics(registry: registry)
        var outbound: [SocketKind: OutboundQueueMetrics] = [:]
        for kind in SocketKind.allCases {
            outbound[kind] = OutboundQueueMetrics(
                droppedEvents: registry.makeCounter(descriptor: Self.descriptor(MetricCatalog.outboundDropped), labels: [("socket", kind.rawValue)]),
                slowConsumerCloses: registry.makeCounter(
                    descriptor: Self.descriptor(MetricCatalog.slowConsumerCloses), labels: [("socket", kind.rawValue)]
                )
            )
        }
        self.outbound = outbound
        lateness = registry.makeDurationHistogram(
            descriptor: Self.descriptor(MetricCatalog.eventLoopLateness), buckets: MetricCatalog.latenessBuckets
        )
        operators = registry.makeGauge(descriptor: Self.descriptor(MetricCatalog.wsConnections), labels: [("role", GatewayRole.operator.rawValue)])
        nodes = registry.makeGauge(descriptor: Self.descriptor(MetricCatalog.wsConnections), labels: [("role", GatewayRole.node.rawValue)])
        pending = registry.makeGauge(descriptor: Self.descriptor(MetricCatalog.wsPendingConnections))
        uptime = registry.makeGauge(descriptor: Self.descriptor(MetricCatalog.uptime))
        registry.makeGauge(descriptor: Self.descriptor(MetricCatalog.buildInfo), labels: [("version", version)]).set(to: 1)
        // Every surface starts at zero, so a rate() over the first failure is not lost.
        for surface in AuthSurface.allCases {
            _ = registry.makeCounter(descriptor: Self.descriptor(MetricCatalog.authRateLimited), labels: [("surface", surface.rawValue)])
        }
    }

    static func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: MetricCatalog.help[name] ?? "")
    }

    // MARK: recording

    func outboundQueue(_ kind: SocketKind) -> OutboundQueueMetrics? {
        outbound[kind]
    }

    /// A refused authentication. `reason` must come from a fixed set (error codes, never input).
    func authFailure(_ surface: AuthSurface, reason: String) {
        registry.makeCounter(
            descriptor: Self.descriptor(MetricCatalog.authFailures), labels: [("surface", surface.rawValue), ("reason", reason)]
        ).increment()
    }

    func authRateLimited(_ surface: AuthSurface) {
        registry.makeCounter(descriptor: Self.descriptor(MetricCatalog.authRateLimited), labels: [("surface", surface.rawValue)])
            .increment()
    }

    /// A refused `connect`: auth and pairing refusals count by their detail code; protocol and
    /// parameter errors are not authentication failures.
    func handshakeRejected(_ error: ErrorShape) {
        guard let code = error.detailCode, code != ConnectErrorDetailCode.protocolMismatch else { return }
        if code == ConnectErrorDetailCode.authRateLimited {
            authRateLimited(.websocket)
        } else {
            authFailure(.websocket, reason: code.lowercased())
        }
    }

    func recordLateness(_ late: Duration) {
        lateness.record(max(.zero, late))
    }

    // MARK: scrape

    /// Refreshes what is read at scrape time (connections, agents, process) and renders the
    /// Prometheus text format.
    func scrape(_ gateway: GatewayCore) async -> [UInt8] {
        let connections = gateway.registry.all
        operators.set(to: Double(connections.lazy.filter { $0.role == .operator }.count))
        nodes.set(to: Double(connections.lazy.filter { $0.role == .node }.count))
        pending.set(to: Double(gateway.registry.pendingCount))
        mesh.connected.set(to: Double(gateway.meshConnections.connectedAgentCount))
        let epoch = mesh.epoch
        do {
            let agents = try await gateway.mesh.allAgents()
            mesh.refresh(agents: agents, nowMs: MeshClock.nowMs(), staleAfterMs: gateway.mesh.settings.staleAfterMs, epoch: epoch)
        } catch {
            // The agent gauges keep their last values; the store's trouble is logged, not hidden.
            gateway.logger.warning("metrics: could not read the mesh registry", metadata: ["error": "\(error)"])
        }
        let elapsed = ContinuousClock.now - startedAt
        uptime.set(to: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        setProcessStats(ProcessStats.read())
        return registry.emitToBuffer()
    }

    private func setProcessStats(_ stats: ProcessStats) {
        let values: [(String, Int?)] = [
            (MetricCatalog.residentMemory, stats.residentBytes), (MetricCatalog.virtualMemory, stats.virtualBytes),
            (MetricCatalog.openFDs, stats.openFDs), (MetricCatalog.maxFDs, stats.maxFDs),
        ]
        for (name, value) in values {
            guard let value else { continue }
            registry.makeGauge(descriptor: Self.descriptor(name)).set(to: Double(value))
        }
    }
}
