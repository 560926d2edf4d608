import ClawgateAgents
import ClawgateMesh
import ClawgateProtocol
import Foundation

/// The figures `health` and `status` report: hosted agents with their sessions, the mesh,
/// readiness and uptime — read from the live stores, never placeholders.
extension GatewayCore {
    /// One agent's session store.
    struct AgentSessions: Sendable {
        var agentId: String
        var name: String?
        var isDefault: Bool
        /// Configured here (answers through providers); false for a mesh agent whose sessions
        /// the gateway keeps.
        var hosted: Bool
        var path: String
        var count: Int
        /// Newest first.
        var recent: [(key: String, entry: SessionEntry)]
        /// Why the store could not be read, if it could not.
        var error: String?
    }

    /// Every configured agent, plus agents that have a session store under `<stateDir>/agents`.
    func sessionOverview(recentLimit: Int = 10) async -> [AgentSessions] {
        let catalog = agents.catalog
        var ids = catalog.agents.map(\.id)
        let agentsDir = (settings.paths.stateDir as NSString).appendingPathComponent("agents")
        let onDisk = (try? FileManager.default.contentsOfDirectory(atPath: agentsDir)) ?? []
        for id in onDisk.sorted() where !ids.contains(id) {
            let store = agents.sessions.storePath(agentId: id)
            if FileManager.default.fileExists(atPath: store) { ids.append(id) }
        }
        var result: [AgentSessions] = []
        for id in ids {
            let definition = catalog.agent(id)
            var view = AgentSessions(
                agentId: id, name: definition?.name, isDefault: id == catalog.defaultId, hosted: definition != nil,
                path: agents.sessions.storePath(agentId: id), count: 0, recent: []
            )
            do {
                let entries = try await agents.sessions.entries(agentId: id)
                view.count = entries.count
                view.recent = Array(entries.prefix(recentLimit))
            } catch {
                view.error = "\(error)"
            }
            result.append(view)
        }
        return result
    }

    /// The mesh's counts, or nil (logged) when the store cannot be read.
    func meshSummary() async -> MeshSummary? {
        do {
            return try await mesh.summary(connectedAgents: meshConnections.connectedAgentCount)
        } catch {
            logger.warning("mesh summary unavailable", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// A session row as `health` and `status` show it (never the transcript).
    static func sessionRow(_ key: String, _ entry: SessionEntry, agentId: String?, nowMs: Int) -> JSONValue {
        var row: [String: JSONValue] = [
            "key": .string(key), "sessionId": .string(entry.sessionId), "updatedAt": .int(entry.updatedAt),
            "age": .int(max(0, nowMs - entry.updatedAt)), "totalTokens": .int(entry.totalTokens),
        ]
        if let agentId { row["agentId"] = .string(agentId) }
        if let model = entry.model { row["model"] = .string(entry.modelProvider.map { "\($0)/\(model)" } ?? model) }
        return .object(row)
    }

    /// Builds the `health` snapshot from the live state.
    func buildHealthSnapshot() async -> HealthSnapshot {
        let started = ContinuousClock.now
        let nowMs = Clock.nowMs()
        let sessions = await sessionOverview()
        let agentsJSON: [JSONValue] = sessions.map { view in
            var object: [String: JSONValue] = [
                "agentId": .string(view.agentId), "isDefault": .bool(view.isDefault),
                "kind": .string(view.hosted ? "hosted" : "mesh"),
                // Clawgate runs no scheduled heartbeat turns.
                "heartbeat": ["enabled": false],
                "sessions": [
                    "path": .string(view.path), "count": .int(view.count),
                    "recent": .array(view.recent.map { Self.sessionRow($0.key, $0.entry, agentId: nil, nowMs: nowMs) }),
                ],
            ]
            if let name = view.name { object["name"] = .string(name) }
            if let error = view.error { object["error"] = .string(error) }
            return .object(object)
        }
        let defaultId = agents.catalog.defaultId
        let main = sessions.first { $0.agentId == defaultId }
        var snapshot = HealthSnapshot(
            ok: true, ts: nowMs, durationMs: 0, heartbeatSeconds: health.heartbeatSeconds, defaultAgentId: defaultId,
            agents: agentsJSON,
            sessions: .init(
                path: main?.path ?? agents.sessions.storePath(agentId: defaultId), count: main?.count ?? 0,
                recent: (main?.recent ?? []).map { Self.sessionRow($0.key, $0.entry, agentId: nil, nowMs: nowMs) }
            )
        )
        snapshot.uptimeMs = uptimeMs
        snapshot.mesh = await meshSummary()
        snapshot.readiness = readiness.summary
        let elapsed = ContinuousClock.now - started
        snapshot.durationMs = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        return snapshot
    }
}
