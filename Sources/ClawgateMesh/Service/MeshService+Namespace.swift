import ClawgateProtocol

/// Reads of a whole namespace, for transports that act for a namespace rather than for one
/// agent (the ClawLink relay API lists files and counts broadcasts without naming an agent).
extension MeshService {
    /// The shared files of a namespace, without their content, ordered by key.
    public func files(namespace: String) async throws -> [SharedFileMetadata] {
        try await store.files(namespace: namespace).map(\.metadata)
    }

    /// One shared file of a namespace.
    public func file(namespace: String, key: String) async throws -> SharedFile {
        guard let file = try await store.file(namespace: namespace, key: key) else {
            throw MeshError(.notFound, "file not found: \(key)")
        }
        return file
    }

    /// The newest broadcasts of a namespace (at most the configured history), newest first.
    public func broadcasts(namespace: String, limit: Int = 100) async throws -> [MeshBroadcast] {
        try await store.broadcasts(namespace: namespace, limit: max(1, min(limit, settings.broadcastHistory)))
    }
}
