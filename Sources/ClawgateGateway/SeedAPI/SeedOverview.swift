import ClawgateMesh
import ClawgateProtocol
import Foundation
import HTTPTypes

/// `GET /api/openclaw/health` and `GET /api/openclaw/status`.
extension SeedAPI {
    /// Active tasks counted exactly up to this many (a lower bound beyond, `truncated`).
    static let activeTaskCountLimit = 10_000
    /// Outcomes are counted among this many newest tasks (terminal tasks are many and kept for
    /// `mesh.retentionMs`; the store has no cheap count of them).
    static let recentTaskWindow = 200
    static let activeStates: [TaskState] = [.queued, .offered, .accepted, .inProgress]

    /// Healthy (200) when the gateway is ready and the mesh store answers; otherwise 503 with
    /// `status: unhealthy`. `latency_ms` is the store round trip.
    func health(namespace requested: String?) async throws -> (HTTPResponse.Status, JSONValue) {
        let namespace = try namespace(requested)
        let clock = ContinuousClock()
        let started = clock.now
        var fields: [String: JSONValue] = [
            "server": "clawgate",
            "version": .string(GatewaySettings.version),
            "protocol_version": .string(SeedEnvelope.protocolVersion),
            "namespace": .string(namespace),
            "uptime_ms": .int(gateway.uptimeMs),
            "server_time": .string(SeedRecords.now()),
        ]
        let agents: [AgentView]
        do {
            agents = try await mesh.discover(namespace: namespace)
        } catch {
            gateway.logger.error("seed api: mesh store did not answer the health check", metadata: ["error": "\(error)"])
            fields["status"] = "unhealthy"
            fields["connected"] = false
            fields["error"] = "the mesh store did not answer"
            return (.serviceUnavailable, .object(fields))
        }
        let elapsed = clock.now - started
        let ready = gateway.isReady
        fields["status"] = .string(ready ? "healthy" : "unhealthy")
        fields["connected"] = .bool(ready)
        fields["ready"] = .bool(ready)
        fields["latency_ms"] = .double((Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000).rounded(toPlaces: 3))
        fields["agents_online"] = .int(agents.filter { $0.status == .online }.count)
        fields["last_heartbeat"] = agents.map(\.lastHeartbeatMs).max().map { .string(SeedRecords.iso($0)) } ?? .null
        return (ready ? .ok : .serviceUnavailable, .object(fields))
    }

    /// Agents (online / stale / with a live socket) and tasks (active ones by state, outcomes of
    /// the newest ones) of a namespace.
    func status(namespace requested: String?) async throws -> JSONValue {
        let namespace = try namespace(requested)
        let agents = try await mesh.discover(namespace: namespace)
        let active = try await mesh.taskCounts(namespace: namespace, states: Self.activeStates, limit: Self.activeTaskCountLimit)
        let recent = try await mesh.taskCounts(namespace: namespace, limit: Self.recentTaskWindow)
        func count(_ state: TaskState) -> Int { active.counts[state] ?? 0 }
        let ready = gateway.isReady
        return [
            "connected": .bool(ready),
            "status": .string(ready ? "healthy" : "unhealthy"),
            "server": "clawgate",
            "version": .string(GatewaySettings.version),
            "protocol_version": .string(SeedEnvelope.protocolVersion),
            "namespace": .string(namespace),
            "uptime_ms": .int(gateway.uptimeMs),
            "agents": [
                "total": .int(agents.count),
                "online": .int(agents.filter { $0.status == .online }.count),
                "stale": .int(agents.filter { $0.status == .stale }.count),
                "connected": .int(agents.filter { connected($0.agentId) }.count),
            ],
            "tasks": [
                "pending": .int(count(.queued) + count(.offered)),
                "in_progress": .int(count(.accepted) + count(.inProgress)),
                "active_by_state": .object(Dictionary(uniqueKeysWithValues: Self.activeStates.map { ($0.rawValue, JSONValue.int(count($0))) })),
                "truncated": .bool(active.truncated),
                "recent": [
                    "window": .int(Self.recentTaskWindow),
                    "counted": .int(recent.counts.values.reduce(0, +)),
                    "by_state": .object(
                        Dictionary(uniqueKeysWithValues: TaskState.allCases.map { ($0.rawValue, JSONValue.int(recent.counts[$0] ?? 0)) })
                    ),
                ],
            ],
            "server_time": .string(SeedRecords.now()),
        ]
    }
}

extension Double {
    fileprivate func rounded(toPlaces places: Int) -> Double {
        let factor = Foundation.pow(10, Double(places))
        return (self * factor).rounded() / factor
    }
}
