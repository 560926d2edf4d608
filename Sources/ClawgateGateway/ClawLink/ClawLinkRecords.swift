import ClawgateMesh
import ClawgateProtocol
import Foundation

/// The relay's JSON shapes for mesh objects: agents, shared files and times.
enum ClawLinkRecords {
    /// The ClawLink API has no namespaces: it serves this one.
    static let namespace = "default"
    /// The mesh task type of tasks delegated through ClawLink.
    static let taskType = "clawlink.task"
    /// The relay API version this gateway is compatible with (ClawLink server 1.0.1).
    static let apiVersion = "1.0.1"

    /// ISO 8601 in UTC with milliseconds, e.g. `2025-01-31T12:00:00.123Z`.
    static func iso(_ ms: Int) -> String {
        Date(timeIntervalSince1970: Double(ms) / 1000).ISO8601Format(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    static func now() -> String { iso(Clock.nowMs()) }

    /// A fresh relay-style agent id: 8 hex characters.
    static func newAgentId() -> String {
        RandomID.hex(count: 8)
    }

    /// The relay's registry record: `agent_id, name, capabilities, machine, description,
    /// registered_at` (ISO), `last_heartbeat` (epoch seconds), `status` (online | stale).
    static func agent(_ view: AgentView) -> JSONValue {
        [
            "agent_id": .string(view.agentId),
            "name": .string(view.name),
            "capabilities": .array(view.capabilities.map { .string($0) }),
            "machine": .string(view.machine ?? ""),
            "description": .string(view.description),
            "registered_at": .string(iso(view.registeredAtMs)),
            "last_heartbeat": .double(Double(view.lastHeartbeatMs) / 1000),
            "status": .string(view.status.rawValue),
        ]
    }

    /// A listing entry (no content); `size` is ours.
    static func fileMetadata(_ file: SharedFileMetadata) -> JSONValue {
        [
            "file_key": .string(file.key),
            "file_type": .string(file.fileType),
            "last_editor": .string(file.lastEditor),
            "version": .int(file.version),
            "updated_at": .string(iso(file.updatedAtMs)),
            "size": .int(file.size),
        ]
    }

    static func file(_ file: SharedFile) -> JSONValue {
        [
            "file_key": .string(file.key),
            "content": .string(file.content),
            "file_type": .string(file.fileType),
            "last_editor": .string(file.lastEditor),
            "version": .int(file.version),
            "updated_at": .string(iso(file.updatedAtMs)),
        ]
    }
}
