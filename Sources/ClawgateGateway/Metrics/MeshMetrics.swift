import ClawgateMesh
import Prometheus
import Synchronization

/// The mesh's series: seed 000's bridge traffic and seed 002's per-agent gauges. The mesh tells
/// it what happened (`MeshObserver`); agent gauges are refreshed from the registry at scrape.
///
/// Label sets stay bounded: message and delivery types are fixed enums, agents are the mesh's
/// registered agents (a deregistered agent's series are removed; an expired one stays as
/// offline until the gateway restarts, at most `maxOfflineAgents` of them).
final class MeshMetrics: MeshObserver {
    static let maxOfflineAgents = 1000

    private let registry: PrometheusCollectorRegistry
    private let received: [MeshMessageType: Counter]
    private let sentByKind: [DeliveryKind: Counter]
    private let latencyByKind: [DeliveryKind: DurationHistogram]
    private let delegated: Counter
    private let completed: Counter
    private let failed: Counter
    private let deadLettered: Counter
    private let expired: Counter
    let connected: Gauge
    private let state = Mutex(State())

    /// What the gateway knows of one agent beyond the registry.
    struct AgentTally {
        var outcomes = RecentOutcomes()
        var processed: Counter?
        var gauges: AgentGauges?
        var lastHeartbeatMs: Int?
        /// When it left the registry without deregistering (expiry): reported offline since.
        var goneAtMs: Int?
    }

    struct AgentGauges {
        let status: Gauge
        let heartbeatAge: Gauge
        let health: Gauge
        let activeTasks: Gauge

        var all: [Gauge] { [status, heartbeatAge, health, activeTasks] }
    }

    struct State {
        var agents: [String: AgentTally] = [:]
        /// Removal order: bumped on every deregistration, so a scrape whose registry snapshot
        /// predates a deregistration does not bring the agent back.
        var epoch = 0
        var departed: [String: Int] = [:]
    }

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        func counter(_ name: String, _ labels: [(String, String)] = []) -> Counter {
            labels.isEmpty
                ? registry.makeCounter(descriptor: GatewayMetrics.descriptor(name))
                : registry.makeCounter(descriptor: GatewayMetrics.descriptor(name), labels: labels)
        }
        var received: [MeshMessageType: Counter] = [:]
        for type in MeshMessageType.allCases { received[type] = counter(MetricCatalog.bridgeMessagesReceived, [("type", type.rawValue)]) }
        self.received = received
        var sent: [DeliveryKind: Counter] = [:]
        var latency: [DeliveryKind: DurationHistogram] = [:]
        for kind in DeliveryKind.allCases {
            sent[kind] = counter(MetricCatalog.bridgeMessagesSent, [("type", kind.rawValue)])
            latency[kind] = registry.makeDurationHistogram(
                descriptor: GatewayMetrics.descriptor(MetricCatalog.bridgeDeliveryLatency), labels: [("type", kind.rawValue)],
                buckets: MetricCatalog.deliveryBuckets
            )
        }
        self.sentByKind = sent
        self.latencyByKind = latency
        delegated = counter(MetricCatalog.bridgeTasksDelegated)
        completed = counter(MetricCatalog.bridgeTasksCompleted)
        failed = counter(MetricCatalog.bridgeTasksFailed)
        deadLettered = counter(MetricCatalog.bridgeTasksDeadLettered)
        expired = counter(MetricCatalog.bridgeTasksExpired)
        connected = registry.makeGauge(descriptor: GatewayMetrics.descriptor(MetricCatalog.bridgeConnected))
    }

    // MARK: MeshObserver

    func received(_ type: MeshMessageType) {
        received[type]?.increment()
    }

    func sent(_ deliveries: [MeshDelivery]) {
        for delivery in deliveries { sentByKind[delivery.kind]?.increment() }
    }

    func settled(_ deliveries: [MeshDelivery], nowMs: Int) {
        guard !deliveries.isEmpty else { return }
        for delivery in deliveries {
            latencyByKind[delivery.kind]?.record(.milliseconds(max(0, nowMs - delivery.createdAtMs)))
        }
        let counters = state.withLock { state in
            deliveries.map { delivery in processedCounter(delivery.recipient, in: &state) }
        }
        for counter in counters { counter.increment() }
    }

    func taskChanged(_ task: MeshTask, previous: TaskState?) {
        guard let previous else {
            delegated.increment()
            return
        }
        guard previous != task.state else { return }
        switch task.state {
        case .completed:
            completed.increment()
            recordOutcome(of: task, failed: false)
        case .failed:
            failed.increment()
            recordOutcome(of: task, failed: true)
        case .deadLettered:
            deadLettered.increment()
            recordOutcome(of: task, failed: true)
        case .expired:
            expired.increment()
        case .queued, .offered, .accepted, .inProgress, .rejected, .canceled:
            break
        }
    }

    func agentsRemoved(_ agentIds: [String], expired: Bool) {
        let unregister: [AgentTally] = state.withLock { state in
            var dropped: [AgentTally] = []
            for id in agentIds {
                if expired {
                    guard state.agents[id] != nil else { continue }
                    state.agents[id]?.goneAtMs = MeshClock.nowMs()
                    state.agents[id]?.gauges?.status.set(to: 0)
                } else {
                    state.epoch += 1
                    state.departed[id] = state.epoch
                    if let tally = state.agents.removeValue(forKey: id) { dropped.append(tally) }
                }
            }
            // Without scrapes nothing prunes `departed`; no snapshot spans this many removals.
            if state.departed.count > Self.maxOfflineAgents * 4 {
                let floor = state.epoch - Self.maxOfflineAgents * 4
                state.departed = state.departed.filter { $0.value > floor }
            }
            return dropped
        }
        for tally in unregister { self.unregister(tally) }
    }

    // MARK: scrape

    /// The removal epoch to pass to `refresh` for a registry snapshot taken after this call.
    var epoch: Int { state.withLock { $0.epoch } }

    /// Sets the agent gauges from a registry snapshot taken after `epoch` was read: registered
    /// agents by their status, agents that vanished from the registry as offline. `staleAfterMs`
    /// is the mesh setting in force (it can change on a config reload).
    func refresh(agents: [AgentView], nowMs: Int, staleAfterMs: Int, epoch: Int) {
        let dropped: [AgentTally] = state.withLock { state in
            var present = Set<String>()
            for view in agents {
                // Deregistered after the snapshot was taken: it is gone, not back.
                if let departedAt = state.departed[view.agentId], departedAt > epoch { continue }
                present.insert(view.agentId)
                var tally = state.agents[view.agentId] ?? AgentTally()
                tally.lastHeartbeatMs = view.lastHeartbeatMs
                tally.goneAtMs = nil
                let gauges = tally.gauges ?? makeGauges(view.agentId)
                tally.gauges = gauges
                let ageMs = max(0, nowMs - view.lastHeartbeatMs)
                gauges.status.set(to: view.status == .online ? 1 : 0.5)
                gauges.heartbeatAge.set(to: Double(ageMs) / 1000)
                gauges.activeTasks.set(to: Double(view.activeTasks))
                gauges.health.set(to:
                    AgentHealth.score(
                        heartbeatAgeMs: ageMs, staleAfterMs: staleAfterMs, recentFailures: tally.outcomes.failures,
                        recentFinished: tally.outcomes.count, activeTasks: view.activeTasks, maxConcurrentTasks: view.maxConcurrentTasks
                    )
                )
                state.agents[view.agentId] = tally
            }
            for (id, var tally) in state.agents where !present.contains(id) {
                guard let gauges = tally.gauges else { continue }
                if tally.goneAtMs == nil { tally.goneAtMs = nowMs }
                gauges.status.set(to: 0)
                gauges.health.set(to: 0)
                gauges.activeTasks.set(to: 0)
                if let last = tally.lastHeartbeatMs { gauges.heartbeatAge.set(to: Double(max(0, nowMs - last)) / 1000) }
                state.agents[id] = tally
            }
            // Removals the snapshot already reflects need no more guarding.
            state.departed = state.departed.filter { $0.value > epoch }
            // Keep the newest offline agents only.
            let offline = state.agents.filter { $0.value.goneAtMs != nil }
            guard offline.count > Self.maxOfflineAgents else { return [] }
            let oldest = offline.sorted { ($0.value.goneAtMs ?? 0) < ($1.value.goneAtMs ?? 0) }.prefix(offline.count - Self.maxOfflineAgents)
            return oldest.compactMap { state.agents.removeValue(forKey: $0.key) }
        }
        for tally in dropped { unregister(tally) }
    }

    // MARK: internals

    private func recordOutcome(of task: MeshTask, failed: Bool) {
        guard let agentId = task.assignee else { return }
        state.withLock { $0.agents[agentId, default: AgentTally()].outcomes.record(failed: failed) }
    }

    private func processedCounter(_ agentId: String, in state: inout State) -> Counter {
        if let counter = state.agents[agentId]?.processed { return counter }
        let counter = registry.makeCounter(
            descriptor: GatewayMetrics.descriptor(MetricCatalog.agentMessagesProcessed), labels: [("agent_id", agentId)]
        )
        state.agents[agentId, default: AgentTally()].processed = counter
        return counter
    }

    private func makeGauges(_ agentId: String) -> AgentGauges {
        func gauge(_ name: String) -> Gauge {
            registry.makeGauge(descriptor: GatewayMetrics.descriptor(name), labels: [("agent_id", agentId)])
        }
        return AgentGauges(
            status: gauge(MetricCatalog.agentStatus), heartbeatAge: gauge(MetricCatalog.agentHeartbeatAge),
            health: gauge(MetricCatalog.agentHealthScore), activeTasks: gauge(MetricCatalog.agentActiveTasks)
        )
    }

    private func unregister(_ tally: AgentTally) {
        for gauge in tally.gauges?.all ?? [] { registry.unregisterGauge(gauge) }
        if let processed = tally.processed { registry.unregisterCounter(processed) }
    }
}
