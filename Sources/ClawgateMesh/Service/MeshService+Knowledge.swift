import ClawgateProtocol
import Foundation

/// Broadcasts, shared files and state documents: what agents of a namespace share besides tasks.
extension MeshService {
    // MARK: broadcast

    /// Sends a knowledge message to every other agent of the sender's namespace that wants its
    /// topic. Each recipient gets a delivery (held until acknowledged); the history is bounded.
    public func broadcast(from agentId: String, content: String, topic: String?, tags: [String]) async throws -> (
        broadcast: MeshBroadcast, recipients: Int
    ) {
        let sender = try await requireAgent(agentId)
        guard !content.isEmpty else { throw MeshError(.invalidInput, "content must not be empty") }
        guard content.utf8.count <= settings.maxMessageBytes else {
            throw MeshError(.tooLarge, "content is larger than \(settings.maxMessageBytes) bytes")
        }
        let topic = topic ?? "general"
        guard !topic.isEmpty, topic.utf8.count <= 128 else { throw MeshError(.invalidInput, "topic must be 1 to 128 bytes") }
        let tags = try MeshValidation.list(tags, field: "tags")
        let nowMs = now()
        let broadcast = MeshBroadcast(
            broadcastId: MeshIDs.deliveryId(), namespace: sender.namespace, from: agentId, content: content, topic: topic,
            tags: tags, createdAtMs: nowMs
        )
        let payload = try JSONCoding.value(of: broadcast)
        var change = MeshChange()
        change.insertBroadcasts = [broadcast]
        change.broadcastHistoryLimit = settings.broadcastHistory
        let recipients = try await store.agents(namespace: sender.namespace).filter { $0.agentId != agentId && $0.wants(topic: topic) }
        for recipient in recipients {
            add(
                MeshDelivery(
                    deliveryId: MeshIDs.deliveryId(), namespace: sender.namespace, recipient: recipient.agentId, kind: .broadcast,
                    taskId: nil, payload: payload, createdAtMs: nowMs
                ), to: &change, nowMs: nowMs
            )
        }
        change.events = [
            event(
                sender.namespace, MeshEventType.knowledgeBroadcast,
                ["broadcastId": .string(broadcast.broadcastId), "from": .string(agentId), "topic": .string(topic),
                 "recipients": .int(recipients.count)]
            )
        ]
        try await commit(change)
        observer.received(.broadcast)
        return (broadcast, recipients.count)
    }

    /// The newest broadcasts of the agent's namespace.
    public func broadcasts(asSeenBy agentId: String, limit: Int = 100) async throws -> [MeshBroadcast] {
        let agent = try await requireAgent(agentId)
        return try await store.broadcasts(namespace: agent.namespace, limit: max(1, min(limit, settings.broadcastHistory)))
    }

    // MARK: files

    /// Writes a shared file. `ifVersion` makes the write conditional (optimistic concurrency):
    /// 0 means "must not exist yet"; a mismatch is a `conflict`.
    public func putFile(
        by agentId: String, key: String, content: String, fileType: String?, ifVersion: Int?
    ) async throws -> SharedFile {
        let agent = try await requireAgent(agentId)
        let key = try MeshValidation.fileKey(key)
        guard content.utf8.count <= settings.maxFileBytes else {
            throw MeshError(.tooLarge, "file content is larger than \(settings.maxFileBytes) bytes")
        }
        let existing = try await store.file(namespace: agent.namespace, key: key)
        if let ifVersion, ifVersion != (existing?.version ?? 0) {
            throw MeshError(.conflict, "file \(key) is at version \(existing?.version ?? 0), not \(ifVersion)")
        }
        if existing == nil, try await store.files(namespace: agent.namespace).count >= settings.maxFilesPerNamespace {
            throw MeshError(.tooLarge, "namespace \(agent.namespace) already holds \(settings.maxFilesPerNamespace) files")
        }
        let nowMs = now()
        let file = SharedFile(
            namespace: agent.namespace, key: key, content: content, fileType: fileType ?? existing?.fileType ?? "text",
            version: (existing?.version ?? 0) + 1, lastEditor: agentId, updatedAtMs: nowMs
        )
        var change = MeshChange()
        change.upsertFiles = [(file, existing?.version)]
        try await notifyFileChange(file.metadata, deleted: false, by: agentId, into: &change, nowMs: nowMs)
        do {
            try await commit(change)
        } catch MeshStoreError.fileConflict {
            throw MeshError(.conflict, "file \(key) changed concurrently; read it again and retry")
        }
        observer.received(.filePut)
        return file
    }

    public func file(asSeenBy agentId: String, key: String) async throws -> SharedFile {
        let agent = try await requireAgent(agentId)
        guard let file = try await store.file(namespace: agent.namespace, key: key) else {
            throw MeshError(.notFound, "file not found: \(key)")
        }
        return file
    }

    public func files(asSeenBy agentId: String) async throws -> [SharedFileMetadata] {
        let agent = try await requireAgent(agentId)
        return try await store.files(namespace: agent.namespace).map(\.metadata)
    }

    public func deleteFile(by agentId: String, key: String, ifVersion: Int?) async throws -> SharedFileMetadata {
        let agent = try await requireAgent(agentId)
        guard let existing = try await store.file(namespace: agent.namespace, key: key) else {
            throw MeshError(.notFound, "file not found: \(key)")
        }
        if let ifVersion, ifVersion != existing.version {
            throw MeshError(.conflict, "file \(key) is at version \(existing.version), not \(ifVersion)")
        }
        let nowMs = now()
        var change = MeshChange()
        change.deleteFiles = [(agent.namespace, key, existing.version)]
        try await notifyFileChange(existing.metadata, deleted: true, by: agentId, into: &change, nowMs: nowMs)
        do {
            try await commit(change)
        } catch MeshStoreError.fileConflict {
            throw MeshError(.conflict, "file \(key) changed concurrently; read it again and retry")
        }
        observer.received(.fileDelete)
        return existing.metadata
    }

    /// `file_updated` for every other agent of the namespace, plus an event.
    private func notifyFileChange(
        _ file: SharedFileMetadata, deleted: Bool, by agentId: String, into change: inout MeshChange, nowMs: Int
    ) async throws {
        var payload: [String: JSONValue] = [
            "type": "file_updated", "file_key": .string(file.key), "version": .int(file.version),
            "last_editor": .string(agentId), "timestamp": .int(nowMs),
        ]
        if deleted { payload["deleted"] = true }
        for recipient in try await store.agents(namespace: file.namespace) where recipient.agentId != agentId {
            add(
                MeshDelivery(
                    deliveryId: MeshIDs.deliveryId(), namespace: file.namespace, recipient: recipient.agentId, kind: .fileUpdated,
                    taskId: nil, payload: .object(payload), createdAtMs: nowMs
                ), to: &change, nowMs: nowMs
            )
        }
        change.events.append(event(file.namespace, deleted ? MeshEventType.fileDeleted : MeshEventType.fileUpdated, .object(payload)))
    }

    // MARK: state sync

    public func state(asSeenBy agentId: String, key: String) async throws -> StateDocument {
        let agent = try await requireAgent(agentId)
        guard let document = try await store.stateDocument(namespace: agent.namespace, key: key) else {
            throw MeshError(.notFound, "no state document \(key)")
        }
        return document
    }

    /// Writes a state document under a conflict policy (seed 000): last-write-wins replaces,
    /// merge adds to what is there, reject needs the current version in `ifVersion`.
    public func setState(
        by agentId: String, key: String, value: JSONValue, policy: ConflictPolicy, ifVersion: Int?
    ) async throws -> StateDocument {
        let agent = try await requireAgent(agentId)
        let key = try MeshValidation.fileKey(key)
        try MeshValidation.size(of: value, field: "value", limit: settings.maxMessageBytes)
        let existing = try await store.stateDocument(namespace: agent.namespace, key: key)
        if policy == .reject {
            guard let ifVersion else { throw MeshError(.invalidInput, "the reject policy needs ifVersion (0 for a new document)") }
            guard ifVersion == (existing?.version ?? 0) else {
                throw MeshError(.conflict, "state \(key) is at version \(existing?.version ?? 0), not \(ifVersion)")
            }
        }
        let merged = policy == .merge ? existing.map { ConflictPolicy.merge($0.value, value) } ?? value : value
        let nowMs = now()
        let document = StateDocument(
            namespace: agent.namespace, key: key, value: merged, version: (existing?.version ?? 0) + 1, updatedBy: agentId,
            updatedAtMs: nowMs
        )
        var change = MeshChange()
        change.upsertStates = [(document, existing?.version)]
        change.events = [
            event(
                agent.namespace, MeshEventType.stateChanged,
                ["key": .string(key), "version": .int(document.version), "by": .string(agentId), "policy": .string(policy.rawValue)]
            )
        ]
        do {
            try await commit(change)
        } catch MeshStoreError.stateConflict {
            throw MeshError(.conflict, "state \(key) changed concurrently; read it again and retry")
        }
        observer.received(.stateSync)
        return document
    }
}
