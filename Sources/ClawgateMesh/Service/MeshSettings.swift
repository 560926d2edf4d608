/// Mesh behaviour knobs (config `mesh.*`), with the seed documents' defaults.
public struct MeshSettings: Sendable, Equatable {
    /// An agent silent this long is `stale` (seed 003: 120 s).
    public var staleAfterMs = 120_000
    /// A stale agent silent this long is removed (`offline`).
    public var expireAfterMs = 24 * 60 * 60 * 1000
    /// How long an offer or other delivery waits for an answer before it is handed out again.
    public var leaseMs = 30_000
    /// Offer deliveries per assignee before the task is dead-lettered.
    public var maxDeliveryAttempts = 5
    /// Largest task context/result/message body (seed 000: 1 MB).
    public var maxMessageBytes = 1_048_576
    /// Terminal tasks and old events are pruned after this long.
    public var retentionMs = 7 * 24 * 60 * 60 * 1000
    /// Largest shared file.
    public var maxFileBytes = 1_048_576
    /// Shared files per namespace.
    public var maxFilesPerNamespace = 10_000
    /// Broadcasts kept per namespace.
    public var broadcastHistory = 1000
    /// Namespaces agents may register in (empty: any).
    public var allowedNamespaces: [String] = []
    /// Agent ids allowed to register (empty: any).
    public var allowedAgents: [String] = []

    public init() {}
}
