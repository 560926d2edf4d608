import ClawgateMesh
import ClawgateMeshSQLite
import ClawgateProtocol
import Foundation
import Logging
import Synchronization

/// The gateway's shared state and services, independent of the HTTP/WebSocket transport.
public final class GatewayCore: Sendable {
    /// The settings in force: a snapshot swapped as a whole by a config reload, so a reader
    /// never sees half of a change. Readers take a copy (`settings`) and use it for one decision.
    private let currentSettings: Mutex<(settings: GatewaySettings, version: Int)>
    public var settings: GatewaySettings { currentSettings.withLock { $0.settings } }
    /// The snapshot and its version (bumped by every swap), for the listener restarts.
    var versionedSettings: (settings: GatewaySettings, version: Int) { currentSettings.withLock { $0 } }
    let logger: Logger
    /// Level and file of the process's log handlers, when the caller bootstrapped logging with one.
    let logControl: GatewayLogControl?
    /// Watches the config file, applies changes, serves `config.*`.
    let reloader: ConfigReloader
    /// In-process listener restarts asked for by config changes.
    let restarts = ListenerRestarts()
    let registry: ConnectionRegistry
    let pairing: PairingStore
    let presence: PresenceTracker
    private let presenceAnnouncer: PresenceAnnouncer
    let health: HealthMonitor
    let rateLimiter: AuthRateLimiter
    let methods: MethodTable
    let mesh: MeshService
    let meshConnections: MeshConnections
    let agents: HostedAgents
    let audit: AuditLog
    /// This gateway's own metrics registry (`GET /metrics`).
    let metrics: GatewayMetrics
    let auditThrottle = AuditThrottle()
    let readinessComponents = ReadinessComponents()
    let startedAtMs: Int
    let hostName: String
    private let runtime = Mutex(Runtime())

    struct Runtime {
        var port: Int?
        var originPolicy: OriginPolicy?
        var ready = false
    }

    /// Events this gateway really emits (advertised in `hello-ok.features.events`).
    static let advertisedEvents = [
        GatewayEvent.connectChallenge, GatewayEvent.tick, GatewayEvent.presence, GatewayEvent.health,
        GatewayEvent.shutdown, GatewayEvent.devicePairRequested, GatewayEvent.devicePairResolved,
        MeshGatewayEvent.delivery, MeshGatewayEvent.event, GatewayEvent.chat, GatewayEvent.agent,
        GatewayEvent.configChanged,
    ]

    init(settings: GatewaySettings, logger: Logger, configSource: ConfigSource, logControl: GatewayLogControl?) throws {
        self.currentSettings = Mutex((settings, 1))
        self.logger = logger
        self.logControl = logControl
        self.reloader = ConfigReloader(source: configSource, mode: settings.reloadMode, logger: logger)
        self.registry = ConnectionRegistry(maxPending: settings.limits.maxPreauthConnections, logger: logger)
        self.pairing = try PairingStore(directory: settings.paths.devicesDir)
        self.audit = try AuditLog(path: settings.paths.auditFile)
        self.hostName = ProcessInfo.processInfo.hostName
        var gatewayEntry = PresenceEntry(ts: Clock.nowMs())
        gatewayEntry.host = hostName
        gatewayEntry.version = GatewaySettings.version
        gatewayEntry.platform = Self.platform
        gatewayEntry.mode = "gateway"
        gatewayEntry.reason = "self"
        gatewayEntry.instanceId = "gateway"
        let presence = PresenceTracker(gatewayEntry: gatewayEntry)
        self.presence = presence
        self.health = HealthMonitor(
            stateDir: settings.paths.stateDir, heartbeatSeconds: settings.limits.tickIntervalMs / 1000,
            defaultAgentId: settings.agents.catalog.defaultId
        )
        self.rateLimiter = AuthRateLimiter(policy: settings.rateLimit)
        let registry = self.registry
        let health = self.health
        self.presenceAnnouncer = PresenceAnnouncer {
            struct PresencePayload: Encodable { let presence: [PresenceEntry] }
            let (entries, version) = presence.listed
            registry.broadcast(
                event: GatewayEvent.presence, payload: PresencePayload(presence: entries),
                stateVersion: StateVersion(presence: version, health: health.current.version), droppable: true
            )
        }
        let metrics = GatewayMetrics(version: GatewaySettings.version)
        self.metrics = metrics
        self.startedAtMs = Clock.nowMs()
        var table = MethodTable()
        SystemMethods.register(into: &table)
        DeviceMethods.register(into: &table)
        MeshMethods.register(into: &table)
        ConfigMethods.register(into: &table)
        AgentMethods.register(into: &table)
        SessionMethods.register(into: &table)
        self.methods = table
        let meshStore = try SQLiteMeshStore(path: (settings.paths.stateDir as NSString).appendingPathComponent("mesh.sqlite"))
        let mesh = MeshService(store: meshStore, settings: settings.mesh, observer: metrics.mesh)
        self.mesh = mesh
        let meshConnections = MeshConnections()
        self.meshConnections = meshConnections
        self.agents = HostedAgents(
            settings: settings.agents, stateDir: settings.paths.stateDir, tools: MeshAgentTools.registry(mesh: mesh), logger: logger,
            metrics: metrics.factory, isRemote: { meshConnections.isConnected(agentId: $0) },
            remoteTurn: { try await MeshAgentTools.remoteTurn($0, mesh: mesh) }
        )
    }

    static var platform: String {
        #if os(Linux)
        "linux"
        #elseif os(macOS)
        "darwin"
        #else
        "unknown"
        #endif
    }

    // MARK: runtime state

    /// Called once the listener is bound: the origin allowlist depends on the effective port.
    func serverStarted(port: Int) {
        let settings = self.settings
        runtime.withLock { runtime in
            runtime.port = port
            runtime.originPolicy = OriginPolicy(
                port: port, bind: settings.bind, customHost: settings.customBindHost, configured: settings.configuredOrigins
            )
            runtime.ready = true
        }
    }

    func markStopping() {
        runtime.withLock { $0.ready = false }
    }

    /// Swaps in a new settings snapshot and hands the parts that components keep to them (rate
    /// limits, origin allowlist, mesh knobs, agents and models, log level and file). Settings
    /// that only the listeners use take effect when they restart. Returns the new version.
    @discardableResult
    func replaceSettings(_ new: GatewaySettings) -> Int {
        let version = currentSettings.withLock { current in
            current.settings = new
            current.version += 1
            return current.version
        }
        rateLimiter.update(policy: new.rateLimit)
        mesh.update(settings: new.mesh)
        agents.replace(settings: new.agents)
        runtime.withLock { runtime in
            guard let port = runtime.port else { return }
            runtime.originPolicy = OriginPolicy(
                port: port, bind: new.bind, customHost: new.customBindHost, configured: new.configuredOrigins
            )
        }
        if let logControl {
            logControl.update(level: new.logLevel.loggerLevel)
            if let error = logControl.update(filePath: new.logFile) {
                logger.error("cannot open the new log file; still writing to the old one", metadata: ["path": "\(new.logFile)", "error": "\(error)"])
            }
        }
        return version
    }

    public var port: Int? { runtime.withLock { $0.port } }
    var isReady: Bool { runtime.withLock { $0.ready } }

    var originPolicy: OriginPolicy {
        let settings = self.settings
        return runtime.withLock { runtime in
            runtime.originPolicy
                ?? OriginPolicy(
                    port: settings.port, bind: settings.bind, customHost: settings.customBindHost,
                    configured: settings.configuredOrigins
                )
        }
    }

    var uptimeMs: Int { Clock.nowMs() - startedAtMs }

    /// How long a response may wait for room in a slow client's buffer.
    var responseTimeout: Duration { .milliseconds(currentSettings.withLock { $0.settings.limits.slowConsumerTimeoutMs }) }

    var stateVersion: StateVersion {
        StateVersion(presence: presence.version, health: health.current.version)
    }

    // MARK: events

    /// Rebuilds the health snapshot from the live state and pushes it to every client.
    @discardableResult
    func refreshHealth() async -> HealthSnapshot {
        let (snapshot, version) = health.update(await buildHealthSnapshot())
        registry.broadcast(
            event: GatewayEvent.health, payload: snapshot,
            stateVersion: StateVersion(presence: presence.version, health: version), droppable: true
        )
        return snapshot
    }

    /// Adds a new connection to presence without telling anyone yet; returns whether the list
    /// changed, to announce with `announcePresence` once hello-ok is queued.
    func recordPresence(of handle: ConnectionHandle) -> Bool {
        guard let entry = handle.presence else { return false }
        _ = presence.connect(entry, connId: handle.connId)
        return true
    }

    /// Tells every client about presence changes, rate-limited (see `PresenceAnnouncer`).
    func announcePresence() {
        presenceAnnouncer.changed(connections: registry.count)
    }

    func connectionClosed(_ handle: ConnectionHandle) {
        meshConnections.unbind(handle)
        guard let entry = handle.presence, presence.disconnect(entry, connId: handle.connId) != nil else { return }
        announcePresence()
    }

    // MARK: methods that need several parts

    func status(includeSensitive: Bool) async -> StatusResult {
        let settings = self.settings
        let connections = registry.all
        let counts = await pairing.counts
        let nowMs = Clock.nowMs()
        let catalog = agents.catalog
        let sessions = await sessionOverview()
        let recent = sessions.flatMap { view in view.recent.map { (agentId: view.agentId, key: $0.key, entry: $0.entry) } }
            .sorted { $0.entry.updatedAt > $1.entry.updatedAt }
            .prefix(10)
            .map { Self.sessionRow($0.key, $0.entry, agentId: $0.agentId, nowMs: nowMs) }
        let byAgent: [JSONValue] = sessions.map { view in
            var row: [String: JSONValue] = [
                "agentId": .string(view.agentId), "path": .string(view.path), "count": .int(view.count),
                "recent": .array(view.recent.prefix(3).map { Self.sessionRow($0.key, $0.entry, agentId: nil, nowMs: nowMs) }),
            ]
            if let error = view.error { row["error"] = .string(error) }
            return .object(row)
        }
        let defaultModel = catalog.defaultAgent.models.first
        let contextTokens = defaultModel.flatMap { ref in
            agents.modelRows.first { $0.ref == ref }?.definition.contextWindow
        }
        let mesh = await meshSummary()
        let readiness = self.readiness.summary
        var gateway = StatusResult.GatewayStatus(
            ok: true, version: GatewaySettings.version, uptimeMs: uptimeMs, startedAt: startedAtMs,
            protocol: .init(min: ProtocolVersion.minimum, max: ProtocolVersion.maximum),
            authMode: settings.authMode.rawValue, bind: settings.bind.rawValue, port: port ?? settings.port,
            connections: .init(
                total: connections.count, operators: connections.filter { $0.role == .operator }.count,
                nodes: connections.filter { $0.role == .node }.count, pending: registry.pendingCount
            ),
            presenceCount: presence.count, pairing: .init(paired: counts.paired, pending: counts.pending),
            stateDir: includeSensitive ? settings.paths.stateDir : nil,
            configPath: includeSensitive ? settings.paths.configPath : nil
        )
        gateway.agents = AgentCounts(
            hosted: catalog.agents.count, mesh: mesh?.agents ?? .init(total: 0, online: 0, stale: 0, connected: 0)
        )
        gateway.mesh = mesh
        gateway.readiness = readiness
        var result = StatusResult(
            // Clawgate runs no scheduled heartbeat turns: every agent is listed as not enabled.
            heartbeat: .init(
                defaultAgentId: catalog.defaultId,
                agents: catalog.agents.map { ["agentId": .string($0.id), "enabled": false] }
            ),
            sessions: .init(
                paths: sessions.map(\.path), count: sessions.reduce(0) { $0 + $1.count },
                defaults: .init(model: defaultModel?.description, contextTokens: contextTokens),
                recent: Array(recent), byAgent: byAgent
            ),
            gateway: gateway
        )
        if includeSensitive { result.gateway.configReload = await reloader.status }
        return result
    }

    func decidePairing(requestId: String, approve: Bool, by caller: ConnectionHandle) async throws -> PairingResolved {
        let now = Clock.nowMs()
        if approve, let pending = await pairing.pending(requestId: requestId, nowMs: now),
            let excess = pending.scopes.first(where: { !OperatorScope.satisfies(granted: caller.scopes, required: $0) })
        {
            // An approver cannot hand out more than it holds (same rule as device.token.rotate).
            throw MethodError(
                ErrorShape(
                    code: ErrorCode.invalidRequest,
                    message: "cannot approve scope \(excess): the caller does not hold it",
                    details: ["code": "AUTH_SCOPE_MISMATCH", "scope": .string(excess)]
                )
            )
        }
        let request: PendingPairing
        do {
            request = approve
                ? try await pairing.approve(requestId: requestId, by: "operator:\(caller.deviceId ?? caller.connId)", nowMs: now)
                : try await pairing.reject(requestId: requestId, nowMs: now)
        } catch PairingStore.DecisionError.unknownRequest {
            throw MethodError.invalidRequest("unknown or expired pairing request: \(requestId)")
        }
        let resolved = PairingResolved(
            requestId: request.requestId, deviceId: request.deviceId, decision: approve ? "approved" : "rejected", ts: now
        )
        auditPairingDecision(
            requestId: request.requestId, deviceId: request.deviceId, decision: resolved.decision,
            by: "operator:\(caller.deviceId ?? caller.connId)", role: request.role, scopes: request.scopes, remote: caller.remoteIP
        )
        logger.notice(
            "pairing decision",
            metadata: [
                "requestId": "\(request.requestId)", "deviceId": "\(request.deviceId)", "decision": "\(resolved.decision)",
                "by": "\(caller.deviceId ?? caller.connId)",
            ]
        )
        registry.broadcast(
            event: GatewayEvent.devicePairResolved, payload: resolved, droppable: false, requiredScope: OperatorScope.pairing
        )
        return resolved
    }
}
