/// Where a client authenticated, the `surface` label of the auth series.
enum AuthSurface: String, Sendable, CaseIterable {
    /// The gateway WebSocket handshake (`connect`).
    case websocket = "ws"
    /// The ClawLink relay API (HTTP and `/ws/{agent_id}`).
    case clawlink
    /// The seed-000 HTTP API (`/api/openclaw/*`, `/tasks`).
    case seedAPI = "seed_api"
    /// The OpenAI-compatible API and `/tools/invoke`.
    case openai
    /// Webhooks (`hooks.token`).
    case hooks
    /// `GET /metrics`.
    case metrics
}
