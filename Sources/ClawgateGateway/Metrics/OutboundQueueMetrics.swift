import Prometheus

/// What a connection's outbound queue counts: broadcast events it skipped for a slow reader,
/// and its close as a slow consumer.
struct OutboundQueueMetrics: Sendable {
    let droppedEvents: Counter
    let slowConsumerCloses: Counter
}

/// Which kind of socket a queue feeds (the `socket` label).
enum SocketKind: String, Sendable, CaseIterable {
    /// The gateway WebSocket (protocol clients and mesh agents).
    case gateway
    /// A ClawLink `/ws/{agent_id}` push socket.
    case clawlink
}
