import ClawgateClient
import ClawgateGateway
import ClawgateModels
import ClawgateProtocol
import ClawgateUpstream
import Foundation
import Testing

/// `/ready` until `done` says so (readiness is checked periodically, the first time right after
/// start), bounded in time.
func waitForReadiness(
    _ gw: TestGateway, until done: @escaping @Sendable (Int, JSONValue) -> Bool
) async throws -> (status: Int, json: JSONValue) {
    try await withDeadline(.seconds(15), "readiness") {
        while true {
            let response = try await httpRequest(gw.httpBase + "/ready")
            let json = try JSONCoding.decode(JSONValue.self, from: Data(response.body.utf8))
            if done(response.status, json) { return (response.status, json) }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

@Suite("Health and status")
struct HealthStatusTests {
    /// A provider nobody listens for (port 1 on loopback refuses connections).
    static let downProvider = AgentsConfig.ProviderEntry(
        id: "down", baseUrl: "http://127.0.0.1:1/v1", apiKey: nil, api: .openAICompletions, headers: [:], models: [ModelDefinition(id: "m1")]
    )

    @Test func readyFailsWithTheUnreachableProviderAndReloadFailures() async throws {
        try await UpstreamServer.with { upstream in
            try await withGateway({ config, _ in
                config.agents.providers = [upstreamProvider("local", upstream), Self.downProvider]
                config.agents.defaults.primaryModel = "local/m1"
            }) { gw in
                let (status, json) = try await waitForReadiness(gw) { status, _ in status == 503 }
                #expect(status == 503)
                #expect(json["ready"] == false)
                // The reachable provider and the store pass; only the unreachable one fails.
                #expect(json["failing"] == ["provider:down"])
                #expect(json["details"]?["provider:down"]?.stringValue?.contains("127.0.0.1:1 unreachable") == true)
                #expect(json["uptimeMs"]?.intValue != nil)

                // The config reloader's hook: a rejected edit is a failing component until cleared.
                gw.core.reportReloadFailure("gateway.port: expected an integer")
                let reload = try await waitForReadiness(gw) { _, json in json["failing"]?.arrayValue?.count == 2 }
                #expect(reload.json["failing"] == ["config-reload", "provider:down"])
                #expect(reload.json["details"]?["config-reload"] == "gateway.port: expected an integer")
                gw.core.clearReloadFailure()
                let cleared = try await waitForReadiness(gw) { _, json in json["failing"]?.arrayValue?.count == 1 }
                #expect(cleared.json["failing"] == ["provider:down"])

                try await connect(gw.adminOptions()) { conn in
                    let health = try await conn.call("health", params: ["probe": true])
                    #expect(health["readiness"]?["ready"] == false)
                    #expect(health["readiness"]?["failing"] == ["provider:down"])
                    let status = try await conn.call("status")
                    #expect(status["gateway"]?["readiness"]?["failing"] == ["provider:down"])
                }
            }
        }
    }

    @Test func healthAndStatusCarryAgentsSessionsMeshAndUptime() async throws {
        try await UpstreamServer.with { upstream in
            try await withGateway({ config, _ in HostedAgentTests.configure(&config, upstream) }) { gw in
                try await connect(MeshRPCTests.agentOptions(gw)) { worker in
                    _ = try await MeshRPCTests.register(worker, "worker", capabilities: ["review"])
                    try await connect(MeshRPCTests.agentOptions(gw)) { boss in
                        _ = try await MeshRPCTests.register(boss, "boss")
                        _ = try await boss.call("mesh.delegate", params: ["to": "worker", "type": "review"])
                    }
                    try await connect(gw.adminOptions()) { admin in
                        let reset = try await admin.call("sessions.reset", params: ["key": "main"])
                        #expect(reset["ok"] == true)

                        // The boss's socket is gone once the gateway has seen it close.
                        let health = try await withDeadline(.seconds(10), "boss disconnected") {
                            while true {
                                let health = try await admin.call("health", params: ["probe": true])
                                if health["mesh"]?["agents"]?["connected"] == 1 { return health }
                                try await Task.sleep(for: .milliseconds(50))
                            }
                        }
                        #expect(health["ok"] == true)
                        #expect(health["defaultAgentId"] == "main")
                        #expect((health["uptimeMs"]?.intValue ?? -1) >= 0)
                        let agents = health["agents"]?.arrayValue ?? []
                        #expect(agents.count == 1)
                        #expect(agents.first?["agentId"] == "main")
                        #expect(agents.first?["isDefault"] == true)
                        #expect(agents.first?["kind"] == "hosted")
                        #expect(agents.first?["sessions"]?["count"] == 1)
                        #expect(health["sessions"]?["count"] == 1)
                        #expect(health["sessions"]?["recent"]?[0]?["key"] == "agent:main:main")
                        #expect(health["mesh"]?["agents"] == ["total": 2, "online": 2, "stale": 0, "connected": 1])
                        let tasks = health["mesh"]?["tasks"]?.objectValue ?? [:]
                        #expect(tasks.values.compactMap(\.intValue).reduce(0, +) == 1)
                        #expect(tasks["offered"] == 1)
                        #expect(tasks["dead_lettered"] == 0)
                        #expect(health["mesh"]?["deadLetters"] == 0)
                        #expect(health["readiness"]?["ready"] == true)

                        let status = try await admin.call("status")
                        #expect(status["heartbeat"]?["defaultAgentId"] == "main")
                        #expect(status["heartbeat"]?["agents"] == [["agentId": "main", "enabled": false]])
                        #expect(status["sessions"]?["count"] == 1)
                        #expect(status["sessions"]?["defaults"]?["model"] == "local/m1")
                        #expect(status["sessions"]?["recent"]?[0]?["agentId"] == "main")
                        #expect(status["sessions"]?["byAgent"]?[0]?["count"] == 1)
                        let paths = status["sessions"]?["paths"]?.arrayValue?.compactMap(\.stringValue) ?? []
                        #expect(paths == [gw.stateDir + "/agents/main/sessions/sessions.json"])
                        let gateway = status["gateway"]
                        #expect((gateway?["uptimeMs"]?.intValue ?? -1) >= 0)
                        #expect(gateway?["agents"]?["hosted"] == 1)
                        #expect(gateway?["agents"]?["mesh"]?["total"] == 2)
                        #expect(gateway?["agents"]?["mesh"]?["connected"] == 1)
                        #expect(gateway?["mesh"]?["tasks"]?["offered"] == 1)
                        #expect(gateway?["readiness"] == ["ready": true, "failing": []])
                    }
                }
            }
        }
    }
}
