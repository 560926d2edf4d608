import ClawgateProtocol

/// A knowledge message sent to the agents of a namespace (or to subscribers of its topic),
/// kept in a bounded history.
public struct MeshBroadcast: Codable, Sendable, Equatable {
    public var broadcastId: String
    public var namespace: String
    public var from: String
    public var content: String
    public var topic: String
    public var tags: [String]
    public var createdAtMs: Int

    public init(broadcastId: String, namespace: String, from: String, content: String, topic: String, tags: [String], createdAtMs: Int) {
        self.broadcastId = broadcastId
        self.namespace = namespace
        self.from = from
        self.content = content
        self.topic = topic
        self.tags = tags
        self.createdAtMs = createdAtMs
    }
}

/// A versioned file shared by the agents of a namespace.
public struct SharedFile: Codable, Sendable, Equatable {
    public var namespace: String
    public var key: String
    public var content: String
    public var fileType: String
    public var version: Int
    public var lastEditor: String
    public var updatedAtMs: Int

    public init(namespace: String, key: String, content: String, fileType: String, version: Int, lastEditor: String, updatedAtMs: Int) {
        self.namespace = namespace
        self.key = key
        self.content = content
        self.fileType = fileType
        self.version = version
        self.lastEditor = lastEditor
        self.updatedAtMs = updatedAtMs
    }

    /// The file without its content, for listings.
    public var metadata: SharedFileMetadata {
        SharedFileMetadata(
            namespace: namespace, key: key, fileType: fileType, version: version, lastEditor: lastEditor,
            updatedAtMs: updatedAtMs, size: content.utf8.count
        )
    }
}

public struct SharedFileMetadata: Codable, Sendable, Equatable {
    public var namespace: String
    public var key: String
    public var fileType: String
    public var version: Int
    public var lastEditor: String
    public var updatedAtMs: Int
    public var size: Int
}

/// A per-namespace state document (seed 000's state sync).
public struct StateDocument: Codable, Sendable, Equatable {
    public var namespace: String
    public var key: String
    public var value: JSONValue
    public var version: Int
    public var updatedBy: String
    public var updatedAtMs: Int

    public init(namespace: String, key: String, value: JSONValue, version: Int, updatedBy: String, updatedAtMs: Int) {
        self.namespace = namespace
        self.key = key
        self.value = value
        self.version = version
        self.updatedBy = updatedBy
        self.updatedAtMs = updatedAtMs
    }
}

/// How a state write meets the stored document.
public enum ConflictPolicy: String, Codable, Sendable, CaseIterable {
    /// The write replaces the document (default).
    case lastWriteWins = "last-write-wins"
    /// Objects are merged key by key (recursively), arrays gain the new elements they lack,
    /// other values are replaced.
    case merge
    /// The write must name the current version (`ifVersion`), else it is refused.
    case reject

    /// Accepts the seed's spellings too.
    public init?(parsing text: String) {
        switch text.lowercased().replacingOccurrences(of: "_", with: "-") {
        case "last-write-wins", "lww": self = .lastWriteWins
        case "merge": self = .merge
        case "reject": self = .reject
        default: return nil
        }
    }

    /// The additive merge of `update` into `base`.
    public static func merge(_ base: JSONValue, _ update: JSONValue) -> JSONValue {
        switch (base, update) {
        case (.object(var merged), .object(let changes)):
            for (key, value) in changes {
                merged[key] = merged[key].map { merge($0, value) } ?? value
            }
            return .object(merged)
        case (.array(var merged), .array(let additions)):
            for item in additions where !merged.contains(item) { merged.append(item) }
            return .array(merged)
        default:
            return update
        }
    }
}
