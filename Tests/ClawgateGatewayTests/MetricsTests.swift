import ClawgateClient
import ClawgateGateway
import ClawgateProtocol
import ClawgateUpstream
import Foundation
import Testing

/// `GET /metrics` after real traffic: handshakes, RPCs, a mesh delegation and a hosted-agent
/// chat against the local LLM server; access control; `promtool` on the real output.
@Suite(.serialized) struct MetricsTests {
    static func agentOptions(_ gw: TestGateway) -> GatewayClientOptions {
        MeshRPCTests.agentOptions(gw)
    }

    @Test func scriptedWorkloadShowsEverySeriesWithItsValue() async throws {
        try await UpstreamServer.with { upstream in
            // m1 answers 429 (retried), then 401 (not retryable): the router falls back to b1.
            upstream.script(model: "m1", [.status(429, message: "slow down"), .status(401, message: "bad key")])
            try await withGateway({ config, _ in
                HostedAgentTests.configure(&config, upstream, fallbacks: ["backup/b1"])
                config.agents.chatCompletionsEnabled = true
                config.agents.defaults.embeddingModel = "local/m2"
            }, timeout: .seconds(60)) {
                (gw: TestGateway) async throws -> Void in
                // Handshakes: one refused (wrong token), the others below succeed.
                let refused = try await expectRejected(gw.options(token: "not-the-token"))
                #expect(refused.error.detailCode == ConnectErrorDetailCode.authTokenMismatch)

                try await connect(gw.adminOptions()) { admin in
                    // RPCs: two health, one status, one unknown method, one scope denial.
                    _ = try await admin.call("health")
                    _ = try await admin.call("health")
                    _ = try await admin.call("status")
                    let unknown = try await expectCallFails(admin, "no.such.method")
                    #expect(unknown.message == "unknown method: no.such.method")
                    try await connect(gw.options()) { scopeless in
                        let denied = try await expectCallFails(scopeless, "status")
                        #expect(denied.message.contains("missing scope"))
                    }

                    // A hosted-agent chat: retry and fallback on the way.
                    let ack = try await admin.call("chat.send", params: ["sessionKey": "main", "message": "count me", "idempotencyKey": "metrics-run"])
                    #expect(ack["status"] == "started")
                    let final = try await HostedAgentTests.finalChat(admin, runId: "metrics-run")
                    #expect(final.payload?["state"] == "final")
                    let inputTokens = try #require(final.payload?["usage"]?["input"]?.intValue)
                    let outputTokens = try #require(final.payload?["usage"]?["output"]?.intValue)

                    // An embedding over the OpenAI API, and one refused call there (wrong bearer).
                    let embedded = try await OpenAIHTTPTests.send(gw.httpBase + "/v1/embeddings", body: ["model": "openclaw", "input": ["a", "b"]])
                    #expect(embedded.status == 200)
                    let embeddingTokens = try #require(embedded.json["usage"]?["prompt_tokens"]?.intValue)
                    let refusedAPI = try await OpenAIHTTPTests.send(gw.httpBase + "/v1/models", method: .GET, token: "wrong")
                    #expect(refusedAPI.status == 401)

                    // A mesh delegation: boss → worker, accepted, completed, result acknowledged.
                    try await connect(Self.agentOptions(gw)) { boss in
                        _ = try await MeshRPCTests.register(boss, "boss")
                        try await connect(Self.agentOptions(gw)) { worker in
                            _ = try await MeshRPCTests.register(worker, "worker", capabilities: ["summarize"])
                            let task = try await boss.call("mesh.delegate", params: ["to": "worker", "type": "summarize"])
                            let taskId = try #require(task["taskId"]?.stringValue)
                            let offer = try await MeshRPCTests.nextEvent(worker, MeshGatewayEvent.delivery)
                            #expect(offer.payload?["kind"] == "task_offer")
                            _ = try await worker.call("mesh.accept", params: ["taskId": .string(taskId)])
                            _ = try await worker.call("mesh.complete", params: ["taskId": .string(taskId), "result": ["ok": true]])
                            let result = try await MeshRPCTests.nextEvent(boss, MeshGatewayEvent.delivery)
                            let deliveryId = try #require(result.payload?["deliveryId"]?.stringValue)
                            #expect(try await boss.call("mesh.ack", params: ["deliveryIds": [.string(deliveryId)]])["acked"] == 1)

                            // Access: 401 without a bearer, 401 with a wrong one (clear message), 200 with it.
                            let bare = try await httpGet(gw.httpBase + "/metrics")
                            #expect(bare.status == 401)
                            #expect(bare.body.contains("Authorization: Bearer"))
                            #expect(bare.headers.first(name: "www-authenticate") == #"Bearer realm="clawgate""#)
                            let wrong = try await httpGet(gw.httpBase + "/metrics", headers: [("Authorization", "Bearer nope")])
                            #expect(wrong.status == 401)

                            // Three operator sockets are open now: admin, boss, worker (the refused
                            // and the scope-less ones leave the registry as they close).
                            let m = try await scrapeMetrics(gw, until: "closed sockets leave the registry") {
                                $0.value("clawgate_ws_connections", ["role": "operator"]) == 3
                            }
                            Self.checkGateway(m)
                            Self.checkRPC(m)
                            Self.checkMesh(m)
                            Self.checkLLM(m, inputTokens: inputTokens, outputTokens: outputTokens, embeddingTokens: embeddingTokens)
                            try await Self.checkFormat(m)
                            try Self.checkMonitoringKit(m)
                        }
                    }
                }
                // The lateness probe wakes every 100 ms.
                let later = try await scrapeMetrics(gw, until: "the lateness probe ran") {
                    ($0.value("clawgate_event_loop_lateness_seconds_count") ?? 0) >= 1
                }
                #expect(later.value("clawgate_event_loop_lateness_seconds_bucket", ["le": "+Inf"]) == later.value("clawgate_event_loop_lateness_seconds_count"))
            }
        }
    }

    static func checkGateway(_ m: MetricsScrape) {
        #expect(m.value("clawgate_build_info", ["version": GatewaySettings.version]) == 1)
        #expect(m.value("clawgate_ws_connections", ["role": "node"]) == 0)
        #expect(m.value("clawgate_ws_pending_connections") == 0)
        #expect((m.value("clawgate_uptime_seconds") ?? 0) > 0)
        #expect(m.value("clawgate_auth_failures_total", ["surface": "ws", "reason": "auth_token_mismatch"]) == 1)
        #expect(m.value("clawgate_auth_failures_total", ["surface": "metrics", "reason": "auth_token_missing"]) == 1)
        #expect(m.value("clawgate_auth_failures_total", ["surface": "metrics", "reason": "auth_token_mismatch"]) == 1)
        #expect(m.value("clawgate_auth_failures_total", ["surface": "openai", "reason": "auth_token_mismatch"]) == 1)
        #expect(m.sum("clawgate_auth_failures_total") == 4)
        #expect(m.value("clawgate_auth_rate_limited_total", ["surface": "ws"]) == 0)
        #expect(m.value("clawgate_outbound_dropped_events_total", ["socket": "gateway"]) == 0)
        #expect(m.value("clawgate_slow_consumer_closes_total", ["socket": "gateway"]) == 0)
        #expect((m.value("process_resident_memory_bytes") ?? 0) > 1_000_000)
        #expect((m.value("process_open_fds") ?? 0) > 3)
        #expect((m.value("process_max_fds") ?? 0) >= (m.value("process_open_fds") ?? 0))
    }

    static func checkRPC(_ m: MetricsScrape) {
        let requests = "clawgate_rpc_requests_total"
        #expect(m.value(requests, ["method": "health", "outcome": "ok"]) == 2)
        #expect(m.value(requests, ["method": "health", "outcome": "error"]) == 0)
        #expect(m.value(requests, ["method": "status", "outcome": "ok"]) == 1)
        #expect(m.value(requests, ["method": "status", "outcome": "denied"]) == 1)
        #expect(m.value(requests, ["method": "unknown", "outcome": "error"]) == 1)
        // Client input never becomes a label value.
        #expect(m.matching(requests, ["method": "no.such.method"]).isEmpty)
        #expect(m.value(requests, ["method": "chat.send", "outcome": "ok"]) == 1)
        #expect(m.value(requests, ["method": "mesh.register", "outcome": "ok"]) == 2)
        #expect(m.value(requests, ["method": "mesh.delegate", "outcome": "ok"]) == 1)
        #expect(m.value(requests, ["method": "mesh.accept", "outcome": "ok"]) == 1)
        #expect(m.value(requests, ["method": "mesh.complete", "outcome": "ok"]) == 1)
        #expect(m.value(requests, ["method": "mesh.ack", "outcome": "ok"]) == 1)
        #expect(m.sum(requests, ["outcome": "internal_error"]) == 0)
        // Every request is in its method's latency histogram.
        #expect(m.value("clawgate_rpc_request_duration_seconds_count", ["method": "health"]) == 2)
        #expect(m.value("clawgate_rpc_request_duration_seconds_count", ["method": "status"]) == 2)
        #expect(m.value("clawgate_rpc_request_duration_seconds_bucket", ["method": "health", "le": "+Inf"]) == 2)
    }

    static func checkMesh(_ m: MetricsScrape) {
        // Seed 002: both agents online, fresh, healthy, idle; what each settled.
        for agent in ["boss", "worker"] {
            #expect(m.value("openclaw_agent_status", ["agent_id": agent]) == 1, "\(agent)")
            let age = m.value("openclaw_agent_heartbeat_age_seconds", ["agent_id": agent]) ?? -1
            #expect(age >= 0 && age < 60, "\(agent): heartbeat age \(age)")
            let health = m.value("openclaw_agent_health_score", ["agent_id": agent]) ?? -1
            #expect(abs(health - 1) < 1e-9, "\(agent): health \(health)")
            #expect(m.value("openclaw_agent_active_tasks", ["agent_id": agent]) == 0, "\(agent)")
            // One settled delivery each: the worker answered the offer, the boss acked the result.
            #expect(m.value("openclaw_agent_messages_processed_total", ["agent_id": agent]) == 1, "\(agent)")
        }
        // Seed 000: the bridge.
        #expect(m.value("openclaw_bridge_connected") == 2)
        let received = "openclaw_bridge_messages_received_total"
        #expect(m.value(received, ["type": "register"]) == 2)
        #expect(m.value(received, ["type": "task_offer"]) == 1)
        #expect(m.value(received, ["type": "task_accept"]) == 1)
        #expect(m.value(received, ["type": "task_complete"]) == 1)
        #expect(m.value(received, ["type": "ack"]) == 1)
        #expect(m.value(received, ["type": "task_fail"]) == 0)
        let sent = "openclaw_bridge_messages_sent_total"
        #expect(m.value(sent, ["type": "task_offer"]) == 1)
        #expect(m.value(sent, ["type": "task_result"]) == 1)
        #expect(m.value(sent, ["type": "knowledge_broadcast"]) == 0)
        #expect(m.value("openclaw_bridge_tasks_delegated_total") == 1)
        #expect(m.value("openclaw_bridge_tasks_completed_total") == 1)
        #expect(m.value("openclaw_bridge_tasks_failed_total") == 0)
        #expect(m.value("openclaw_bridge_tasks_dead_lettered_total") == 0)
        #expect(m.value("openclaw_bridge_tasks_expired_total") == 0)
        #expect(m.value("openclaw_bridge_delivery_latency_seconds_count", ["type": "task_offer"]) == 1)
        #expect(m.value("openclaw_bridge_delivery_latency_seconds_count", ["type": "task_result"]) == 1)
        // Seed 002: the hosted agent's run.
        #expect(m.value("openclaw_agent_deliberations_total", ["agent_id": "main", "status": "ok"]) == 1)
        #expect(m.sum("openclaw_agent_deliberations_total") == 1)
    }

    static func checkLLM(_ m: MetricsScrape, inputTokens: Int, outputTokens: Int, embeddingTokens: Int) {
        let requests = "clawgate_llm_requests_total"
        let m1 = ["provider": "local", "model": "m1", "operation": "chat"]
        let b1 = ["provider": "backup", "model": "b1"]
        #expect(m.value(requests, m1.merging(["outcome": "rate_limit"]) { $1 }) == 1)
        #expect(m.value(requests, m1.merging(["outcome": "auth"]) { $1 }) == 1)
        #expect(m.value(requests, b1.merging(["operation": "chat", "outcome": "ok"]) { $1 }) == 1)
        #expect(m.sum(requests, ["operation": "chat"]) == 3)
        // The embedding: one request, its input tokens, its own duration series.
        let m2 = ["provider": "local", "model": "m2"]
        #expect(m.value(requests, m2.merging(["operation": "embedding", "outcome": "ok"]) { $1 }) == 1)
        #expect(m.sum(requests) == 4)
        #expect(embeddingTokens > 0)
        #expect(m.value("clawgate_llm_tokens_total", m2.merging(["direction": "input"]) { $1 }) == Double(embeddingTokens))
        #expect(m.value("clawgate_llm_request_duration_seconds_count", m2.merging(["operation": "embedding"]) { $1 }) == 1)
        #expect(m.value("clawgate_llm_request_duration_seconds_count", m2.merging(["operation": "chat"]) { $1 }) == 0)
        #expect(m.value("clawgate_llm_retries_total", ["provider": "local", "model": "m1"]) == 1)
        #expect(m.value("clawgate_llm_fallbacks_total", ["provider": "local", "model": "m1"]) == 1)
        #expect(m.value("clawgate_llm_fallbacks_total", b1) == 0)
        #expect(m.value("clawgate_llm_tokens_total", b1.merging(["direction": "input"]) { $1 }) == Double(inputTokens))
        #expect(m.value("clawgate_llm_tokens_total", b1.merging(["direction": "output"]) { $1 }) == Double(outputTokens))
        #expect(inputTokens > 0 && outputTokens > 0)
        #expect(m.value("clawgate_llm_request_duration_seconds_count", b1.merging(["operation": "chat"]) { $1 }) == 1)
        #expect(m.value("clawgate_llm_request_duration_seconds_count", m1) == 2)
        // The failed attempts streamed nothing: only b1 has a first token.
        #expect(m.value("clawgate_llm_time_to_first_token_seconds_count", b1) == 1)
        #expect(m.value("clawgate_llm_time_to_first_token_seconds_count", ["provider": "local", "model": "m1"]) == 0)
    }

    /// Every family has HELP; names and label values are bounded; promtool accepts the text.
    static func checkFormat(_ m: MetricsScrape) async throws {
        let undocumented = m.families.filter { (m.help[$0] ?? "").isEmpty }.sorted()
        #expect(undocumented.isEmpty, "families without HELP: \(undocumented)")
        let labelKeys = Set(m.samples.flatMap { $0.labels.keys })
        #expect(labelKeys.isSubset(of: ["agent_id", "type", "role", "method", "outcome", "surface", "reason", "socket", "version",
                                       "provider", "model", "operation", "direction", "status", "le"]), "\(labelKeys)")
        let checked = try await Promtool.run(["check", "metrics"], stdin: m.text)
        #expect(checked.status == 0, "promtool check metrics: \(checked.output)")
    }

    @Test func accessIsBearerByDefaultAndOpenWhenPublic() async throws {
        try await withGateway { (gw: TestGateway) async throws -> Void in
            let bare = try await httpGet(gw.httpBase + "/metrics")
            #expect(bare.status == 401)
            #expect(bare.body == "unauthorized: /metrics needs the gateway token or password as Authorization: Bearer <secret> (or set gateway.metrics.public to true to scrape without auth on a private network)\n")
            let ok = try await httpGet(gw.httpBase + "/metrics", headers: [("Authorization", "Bearer \(gw.token)")])
            #expect(ok.status == 200)
            #expect(ok.headers.first(name: "content-type") == "text/plain; version=0.0.4; charset=utf-8")
            #expect(ok.body.contains("# TYPE clawgate_rpc_requests_total counter") || ok.body.contains("# TYPE clawgate_build_info gauge"))
            let post = try await httpRequest(gw.httpBase + "/metrics", method: .POST)
            #expect(post.status == 405)
            // `/metrics` is an HTTP route, never the gateway socket.
            let upgrade = try? await withRawSocket(gw, path: "/metrics") { _ in true }
            #expect(upgrade == nil)
        }
        try await withGateway({ config, _ in config.gateway.metrics.isPublic = true }) { (gw: TestGateway) async throws -> Void in
            let bare = try await httpGet(gw.httpBase + "/metrics")
            #expect(bare.status == 200)
            #expect(bare.body.contains("clawgate_build_info"))
        }
        try await withGateway(authMode: .password, password: "pw-secret") { (gw: TestGateway) async throws -> Void in
            let withToken = try await httpGet(gw.httpBase + "/metrics", headers: [("Authorization", "Bearer \(gw.token)")])
            #expect(withToken.status == 401)
            let withPassword = try await httpGet(gw.httpBase + "/metrics", headers: [("Authorization", "Bearer pw-secret")])
            #expect(withPassword.status == 200)
        }
    }

    @Test func deadLetterLowersTheAssigneesHealth() async throws {
        try await withGateway({ config, _ in
            config.mesh.settings.leaseMs = 100
            config.mesh.settings.maxDeliveryAttempts = 1
            config.mesh.sweepIntervalMs = 50
        }) { (gw: TestGateway) async throws -> Void in
            try await connect(Self.agentOptions(gw)) { boss in
                _ = try await MeshRPCTests.register(boss, "boss")
                try await connect(Self.agentOptions(gw)) { mute in
                    _ = try await MeshRPCTests.register(mute, "mute")
                    _ = try await boss.call("mesh.delegate", params: ["to": "mute", "type": "never-answered"])
                    // The offer is pushed once, never answered: dead-lettered when its lease lapses.
                    let m = try await scrapeMetrics(gw, until: "the offer is dead-lettered") {
                        $0.value("openclaw_bridge_tasks_dead_lettered_total") == 1
                    }
                    #expect(m.value("openclaw_bridge_messages_sent_total", ["type": "task_offer"]) == 1)
                    #expect(m.value("openclaw_bridge_tasks_completed_total") == 0)
                    // Its only finished task failed, it is fresh and idle: 1 × (0.7 × 0 + 0.3 × 1).
                    let health = m.value("openclaw_agent_health_score", ["agent_id": "mute"]) ?? -1
                    #expect(abs(health - 0.3) < 1e-9, "health \(health)")
                    #expect(m.value("openclaw_agent_messages_processed_total", ["agent_id": "mute"]) == nil)
                    let bossHealth = m.value("openclaw_agent_health_score", ["agent_id": "boss"]) ?? -1
                    #expect(abs(bossHealth - 1) < 1e-9)
                }
            }
        }
    }

    @Test func silentAgentTurnsStaleThenOffline() async throws {
        try await withGateway({ config, _ in
            config.mesh.settings.staleAfterMs = 1_000
            config.mesh.settings.expireAfterMs = 4_000
            config.mesh.sweepIntervalMs = 50
        }, timeout: .seconds(30)) { (gw: TestGateway) async throws -> Void in
            try await connect(Self.agentOptions(gw)) { conn in
                _ = try await MeshRPCTests.register(conn, "sleepy")
            }
            let stale = try await scrapeMetrics(gw, until: "the agent turns stale") {
                $0.value("openclaw_agent_status", ["agent_id": "sleepy"]) == 0.5
            }
            #expect((stale.value("openclaw_agent_heartbeat_age_seconds", ["agent_id": "sleepy"]) ?? 0) > 1)
            #expect(stale.value("openclaw_agent_health_score", ["agent_id": "sleepy"]) == 0)
            let offline = try await scrapeMetrics(gw, until: "the agent expires", timeout: .seconds(15)) {
                $0.value("openclaw_agent_status", ["agent_id": "sleepy"]) == 0
            }
            #expect((offline.value("openclaw_agent_heartbeat_age_seconds", ["agent_id": "sleepy"]) ?? 0) > 4)
            #expect(offline.value("openclaw_agent_health_score", ["agent_id": "sleepy"]) == 0)
            // Registering again brings it back online.
            try await connect(Self.agentOptions(gw)) { conn in
                _ = try await conn.call("mesh.register", MeshRegisterParams(agentId: "sleepy"), as: JSONValue.self)
                let back = try await scrapeMetrics(gw)
                #expect(back.value("openclaw_agent_status", ["agent_id": "sleepy"]) == 1)
            }
        }
    }

    @Test func alertRulesDashboardAndScrapeConfigAreValid() async throws {
        let monitoring = Promtool.packageRoot.appendingPathComponent("deploy/monitoring")
        let rules = try await Promtool.run(["check", "rules", monitoring.appendingPathComponent("clawgate-alerts.yml").path])
        #expect(rules.status == 0, "promtool check rules: \(rules.output)")
        let unit = try await Promtool.run(["test", "rules", monitoring.appendingPathComponent("clawgate-alerts.test.yml").path])
        #expect(unit.status == 0, "promtool test rules: \(unit.output)")
        let config = try await Promtool.run(["check", "config", "--syntax-only", monitoring.appendingPathComponent("prometheus.yml").path])
        #expect(config.status == 0, "promtool check config: \(config.output)")
        let dashboard = try String(contentsOf: monitoring.appendingPathComponent("grafana-dashboard.json"), encoding: .utf8)
        let json = try JSONCoding.decode(JSONValue.self, from: Data(dashboard.utf8))
        let panels = json["panels"]?.arrayValue ?? []
        #expect(panels.count > 10)
        let titles = Set(panels.compactMap { $0["title"]?.stringValue })
        #expect(titles.isSuperset(of: ["Agents", "Heartbeat age", "Tasks", "Tokens", "Request latency", "Connections", "Event-loop lateness"]))
    }

    /// Every series the alert rules and the dashboard query is one the gateway exposes (after
    /// the workload, which creates the series that appear on first use).
    static func checkMonitoringKit(_ m: MetricsScrape) throws {
        let monitoring = Promtool.packageRoot.appendingPathComponent("deploy/monitoring")
        for file in ["grafana-dashboard.json", "clawgate-alerts.yml"] {
            let text = try String(contentsOf: monitoring.appendingPathComponent(file), encoding: .utf8)
            let queried = Self.seriesNames(in: text)
            #expect(queried.count > 5, "\(file) queries too few clawgate series: \(queried)")
            let unknown = queried.filter { !m.families.contains($0) }.sorted()
            #expect(unknown.isEmpty, "\(file) queries series the gateway does not expose: \(unknown)")
        }
    }

    /// `openclaw_*`, `clawgate_*` and `process_*` names in a text, histogram suffixes removed.
    static func seriesNames(in text: String) -> Set<String> {
        let pattern = /\b((?:openclaw|clawgate|process)_[a-z0-9_]+)/
        var names = Set<String>()
        for match in text.matches(of: pattern) {
            var name = String(match.1)
            for suffix in ["_bucket", "_count", "_sum"] where name.hasSuffix(suffix) && !name.hasSuffix("_total") {
                name = String(name.dropLast(suffix.count))
            }
            names.insert(name)
        }
        return names
    }
}

@Suite("Metrics config")
struct MetricsConfigTests {
    func parse(_ text: String) throws(ConfigError) -> GatewayConfig {
        try ConfigParser.parse(data: Data(text.utf8), file: "/etc/clawgate.json")
    }

    @Test func publicIsABooleanAndNothingElseIsAccepted() throws {
        #expect(try parse("{gateway: {metrics: {public: true}}}").gateway.metrics.isPublic == true)
        #expect(try parse("{gateway: {metrics: {}}}").gateway.metrics.isPublic == nil)
        #expect(try parse("{}").gateway.metrics.isPublic == nil)
        do {
            _ = try parse(#"{gateway: {metrics: {public: "yes"}}}"#)
            Issue.record("a string was accepted for gateway.metrics.public")
        } catch {
            #expect(error.description == "/etc/clawgate.json: gateway.metrics.public: expected true or false, got string")
        }
        do {
            _ = try parse("{gateway: {metrics: {pubic: true}}}")
            Issue.record("an unknown key was accepted under gateway.metrics")
        } catch {
            #expect(error.description == "/etc/clawgate.json: gateway.metrics.pubic: unknown key (known keys here: public)")
        }
    }

    @Test func settingsDefaultToBearerAuth() throws {
        let paths = GatewayPaths(stateDir: "/tmp/clawgate-metrics-settings")
        let closed = try GatewaySettings.resolve(config: GatewayConfig(), paths: paths, environment: [:])
        #expect(closed.metricsPublic == false)
        var config = GatewayConfig()
        config.gateway.metrics.isPublic = true
        #expect(try GatewaySettings.resolve(config: config, paths: paths, environment: [:]).metricsPublic == true)
    }
}
