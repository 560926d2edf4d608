import ClawgateAgents
import ClawgateModels

/// Every series the gateway exposes: its name, HELP text and (histograms) buckets, in one
/// place so `/metrics` documents itself and the README, the alert rules and the dashboard have
/// one list to agree with.
enum MetricCatalog {
    // MARK: seed 002: agents

    static let agentStatus = "openclaw_agent_status"
    static let agentHeartbeatAge = "openclaw_agent_heartbeat_age_seconds"
    static let agentHealthScore = "openclaw_agent_health_score"
    static let agentActiveTasks = "openclaw_agent_active_tasks"
    static let agentMessagesProcessed = "openclaw_agent_messages_processed_total"
    static let agentDeliberations = AgentRuntime.deliberationsTotal

    // MARK: seed 000: the bridge (the mesh's message traffic)

    static let bridgeConnected = "openclaw_bridge_connected"
    static let bridgeMessagesReceived = "openclaw_bridge_messages_received_total"
    static let bridgeMessagesSent = "openclaw_bridge_messages_sent_total"
    static let bridgeTasksDelegated = "openclaw_bridge_tasks_delegated_total"
    static let bridgeTasksCompleted = "openclaw_bridge_tasks_completed_total"
    static let bridgeTasksFailed = "openclaw_bridge_tasks_failed_total"
    static let bridgeTasksDeadLettered = "openclaw_bridge_tasks_dead_lettered_total"
    static let bridgeTasksExpired = "openclaw_bridge_tasks_expired_total"
    static let bridgeDeliveryLatency = "openclaw_bridge_delivery_latency_seconds"

    // MARK: the gateway

    static let buildInfo = "clawgate_build_info"
    static let uptime = "clawgate_uptime_seconds"
    static let wsConnections = "clawgate_ws_connections"
    static let wsPendingConnections = "clawgate_ws_pending_connections"
    static let rpcRequests = "clawgate_rpc_requests_total"
    static let rpcDuration = "clawgate_rpc_request_duration_seconds"
    static let authFailures = "clawgate_auth_failures_total"
    static let authRateLimited = "clawgate_auth_rate_limited_total"
    static let outboundDropped = "clawgate_outbound_dropped_events_total"
    static let slowConsumerCloses = "clawgate_slow_consumer_closes_total"
    static let eventLoopLateness = "clawgate_event_loop_lateness_seconds"

    // MARK: the process (the names every Prometheus client library uses)

    static let residentMemory = "process_resident_memory_bytes"
    static let virtualMemory = "process_virtual_memory_bytes"
    static let openFDs = "process_open_fds"
    static let maxFDs = "process_max_fds"

    static let help: [String: String] = [
        agentStatus: "Mesh agent status: 1 online (heartbeat within mesh.staleAfterMs), 0.5 stale, 0 offline (expired from the registry).",
        agentHeartbeatAge: "Seconds since the mesh agent's last heartbeat (any frame of a bound connection counts).",
        agentHealthScore:
            "Mesh agent health from 0 to 1: freshness x (0.7 x (1 - recent task failure rate) + 0.3 x (1 - load)); see the README.",
        agentActiveTasks: "Tasks offered to or held by the mesh agent right now.",
        agentMessagesProcessed: "Deliveries the mesh agent settled: acknowledged results and notices, answered task offers.",
        agentDeliberations: "Hosted agent runs (deliberations) that ended, by agent and how they ended.",
        bridgeConnected: "Mesh agents with a live push connection (gateway socket or ClawLink /ws).",
        bridgeMessagesReceived: "Messages agents sent to the mesh and it processed, by message type.",
        bridgeMessagesSent: "Deliveries handed to agents (pushed or polled, redeliveries included), by delivery type.",
        bridgeTasksDelegated: "Mesh tasks created by a delegation.",
        bridgeTasksCompleted: "Mesh tasks that completed.",
        bridgeTasksFailed: "Mesh tasks their assignee reported as failed.",
        bridgeTasksDeadLettered: "Mesh tasks dead-lettered: the offer went unanswered for mesh.maxDeliveryAttempts leases.",
        bridgeTasksExpired: "Mesh tasks that passed their deadline before finishing.",
        bridgeDeliveryLatency: "Time from a delivery's creation to its settlement by the recipient (ack, or the answer to an offer).",
        buildInfo: "Always 1; the version label says which Clawgate runs.",
        uptime: "Seconds since this gateway started.",
        wsConnections: "Authenticated gateway WebSocket connections, by role.",
        wsPendingConnections: "Gateway WebSocket connections that have not finished the handshake.",
        rpcRequests: "Gateway RPC requests, by method and outcome (ok, error, denied, internal_error).",
        rpcDuration: "Time to answer a gateway RPC request, by method.",
        authFailures: "Refused authentication attempts, by surface and reason (never the secret).",
        authRateLimited: "Authentication attempts refused because the client address is locked out, by surface.",
        outboundDropped: "Broadcast events (tick, presence, health, mesh events) skipped for a slow reader, by socket kind.",
        slowConsumerCloses: "Sockets closed with 1008 slow consumer because their outbound buffer stayed full, by socket kind.",
        eventLoopLateness: "How late a 100 ms timer fired: a busy or blocked scheduler shows here first.",
        residentMemory: "Resident memory of the gateway process, in bytes.",
        virtualMemory: "Virtual memory of the gateway process, in bytes.",
        openFDs: "Open file descriptors of the gateway process.",
        maxFDs: "The process's limit on open file descriptors.",
        ModelMetrics.requestsTotal: "Requests to LLM providers (each attempt), by provider, model, operation and outcome.",
        ModelMetrics.tokensTotal: "LLM tokens as reported by the provider, by provider, model and direction (input, output).",
        ModelMetrics.requestDuration: "Duration of an LLM request from its start to the end of the stream, by provider, model and operation.",
        ModelMetrics.timeToFirstToken: "Time from the start of an LLM chat request to the first streamed event, by provider and model.",
        ModelMetrics.retriesTotal: "LLM requests retried on the same model after a retryable error, by provider and model.",
        ModelMetrics.fallbacksTotal: "Times the router gave up on a model and moved to the next candidate, by the model given up on.",
    ]

    static let rpcBuckets = seconds([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])
    static let latenessBuckets = seconds([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5])
    static let deliveryBuckets = seconds([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300])
    static let llmBuckets = seconds([0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300])

    static let durationBuckets: [String: [Duration]] = [
        rpcDuration: rpcBuckets, eventLoopLateness: latenessBuckets, bridgeDeliveryLatency: deliveryBuckets,
        ModelMetrics.requestDuration: llmBuckets, ModelMetrics.timeToFirstToken: llmBuckets,
    ]

    /// Buckets of a duration histogram created through swift-metrics (`Timer`).
    static func buckets(for name: String) -> [Duration] {
        durationBuckets[name] ?? rpcBuckets
    }

    static func seconds(_ values: [Double]) -> [Duration] {
        values.map { Duration.nanoseconds(Int64(($0 * 1_000_000_000).rounded())) }
    }
}
