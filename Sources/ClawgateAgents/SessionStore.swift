import ClawgateModels
import ClawgateProtocol
import ClawgateSupport
import Foundation

/// Sessions of every hosted agent: `<stateDir>/agents/<agentId>/sessions/sessions.json` plus one
/// transcript per session, laid out as OpenClaw lays them out.
///
/// An actor: every change to an agent's `sessions.json` is a read-modify-write of one file, and
/// the actor makes those atomic with respect to each other (the file itself is replaced
/// atomically, so a crash leaves the old or the new map).
public actor SessionStore {
    private let stateDir: String
    private var maps: [String: [String: SessionEntry]] = [:]
    /// Last transcript entry id per session id, so appends need not re-read the file.
    private var lastEntryIds: [String: String] = [:]
    /// Most sessions kept per agent; the least recently updated are dropped beyond it.
    public let maxEntriesPerAgent: Int

    public init(stateDir: String, maxEntriesPerAgent: Int = 500) {
        self.stateDir = stateDir
        self.maxEntriesPerAgent = maxEntriesPerAgent
    }

    public nonisolated func sessionsDirectory(agentId: String) -> String {
        (stateDir as NSString).appendingPathComponent("agents/\(agentId)/sessions")
    }

    public nonisolated func storePath(agentId: String) -> String {
        (sessionsDirectory(agentId: agentId) as NSString).appendingPathComponent("sessions.json")
    }

    public nonisolated func transcript(agentId: String, sessionId: String) -> TranscriptFile {
        TranscriptFile(path: (sessionsDirectory(agentId: agentId) as NSString).appendingPathComponent("\(sessionId).jsonl"))
    }

    // MARK: reading

    public func entry(_ key: SessionKey) throws -> SessionEntry? {
        try map(agentId: key.agentId)[key.raw]
    }

    public func entries(agentId: String) throws -> [(key: String, entry: SessionEntry)] {
        try map(agentId: agentId).map { ($0.key, $0.value) }.sorted { $0.entry.updatedAt > $1.entry.updatedAt }
    }

    public func messages(_ key: SessionKey) throws -> TranscriptFile.Contents {
        guard let entry = try entry(key) else { return TranscriptFile.Contents(messages: [], skippedLines: 0, lastEntryId: nil) }
        return try transcript(agentId: key.agentId, sessionId: entry.sessionId).read()
    }

    // MARK: writing

    /// The session's entry, created (with its transcript header) on first use.
    public func resolve(_ key: SessionKey, nowMs: Int) throws -> SessionEntry {
        var map = try map(agentId: key.agentId)
        if let existing = map[key.raw] { return existing }
        let sessionId = RandomID.uuid()
        let file = transcript(agentId: key.agentId, sessionId: sessionId)
        try file.createIfMissing(sessionId: sessionId, nowMs: nowMs)
        let entry = SessionEntry(sessionId: sessionId, nowMs: nowMs, sessionFile: file.path)
        map[key.raw] = entry
        try save(map, agentId: key.agentId)
        return entry
    }

    /// Appends to the session's transcript (creating the session if needed) and updates its entry.
    @discardableResult
    public func append(
        _ messages: [TranscriptMessage], to key: SessionKey, usage: TokenUsage? = nil, model: (provider: String, model: String)? = nil,
        aborted: Bool? = nil, label: String? = nil, nowMs: Int
    ) throws -> SessionEntry {
        var entry = try resolve(key, nowMs: nowMs)
        let file = transcript(agentId: key.agentId, sessionId: entry.sessionId)
        let parent: String?
        if let cached = lastEntryIds[entry.sessionId] {
            parent = cached
        } else {
            parent = try file.read().lastEntryId
        }
        let ids = try file.append(messages, parentId: parent, label: label)
        if let last = ids.last { lastEntryIds[entry.sessionId] = last }
        entry.updatedAt = nowMs
        entry.lastInteractionAt = nowMs
        if let usage {
            entry.inputTokens += usage.input
            entry.outputTokens += usage.output
            entry.totalTokens = entry.inputTokens + entry.outputTokens
            entry.contextTokens = usage.input
        }
        if let model {
            entry.modelProvider = model.provider
            entry.model = model.model
        }
        if let aborted { entry.abortedLastRun = aborted }
        try update(key, entry)
        return entry
    }

    /// Applies `change` to an existing entry (or a new one) and persists it.
    public func patch(_ key: SessionKey, nowMs: Int, _ change: @Sendable (inout SessionEntry) throws -> Void) throws -> SessionEntry {
        var entry = try resolve(key, nowMs: nowMs)
        try change(&entry)
        entry.updatedAt = nowMs
        try update(key, entry)
        return entry
    }

    /// Starts a new session id for the key; the old transcript is kept as
    /// `<sessionId>.jsonl.reset.<timestamp>` (OpenClaw's archive name).
    public func reset(_ key: SessionKey, nowMs: Int) throws -> SessionEntry {
        var map = try map(agentId: key.agentId)
        if let old = map[key.raw] {
            try archive(transcript(agentId: key.agentId, sessionId: old.sessionId), suffix: "reset", nowMs: nowMs)
            lastEntryIds[old.sessionId] = nil
        }
        let sessionId = RandomID.uuid()
        let file = transcript(agentId: key.agentId, sessionId: sessionId)
        try file.createIfMissing(sessionId: sessionId, nowMs: nowMs)
        var entry = SessionEntry(sessionId: sessionId, nowMs: nowMs, sessionFile: file.path)
        if let old = map[key.raw] {
            // Settings survive a reset; counters and the transcript do not.
            entry.label = old.label
            entry.modelOverride = old.modelOverride
            entry.providerOverride = old.providerOverride
            entry.thinkingLevel = old.thinkingLevel
            entry.verboseLevel = old.verboseLevel
            entry.sendPolicy = old.sendPolicy
        }
        map[key.raw] = entry
        try save(map, agentId: key.agentId)
        return entry
    }

    /// Removes the entry; the transcript is archived as `.deleted.<ts>` unless `deleteTranscript`.
    public func delete(_ key: SessionKey, deleteTranscript: Bool, nowMs: Int) throws -> Bool {
        var map = try map(agentId: key.agentId)
        guard let old = map.removeValue(forKey: key.raw) else { return false }
        let file = transcript(agentId: key.agentId, sessionId: old.sessionId)
        if deleteTranscript {
            unlink(file.path)
        } else {
            try archive(file, suffix: "deleted", nowMs: nowMs)
        }
        lastEntryIds[old.sessionId] = nil
        try save(map, agentId: key.agentId)
        return true
    }

    // MARK: files

    private func update(_ key: SessionKey, _ entry: SessionEntry) throws {
        var map = try map(agentId: key.agentId)
        map[key.raw] = entry
        try save(map, agentId: key.agentId)
    }

    private func map(agentId: String) throws -> [String: SessionEntry] {
        if let cached = maps[agentId] { return cached }
        let path = storePath(agentId: agentId)
        var loaded: [String: SessionEntry] = [:]
        if let data = FileManager.default.contents(atPath: path), !data.isEmpty {
            do {
                loaded = try JSONDecoder().decode([String: SessionEntry].self, from: data)
            } catch {
                throw AgentError(.unavailable, "the session store \(path) is not readable: \(JSONCoding.describe(error))")
            }
        }
        maps[agentId] = loaded
        return loaded
    }

    private func save(_ map: [String: SessionEntry], agentId: String) throws {
        var map = map
        if map.count > maxEntriesPerAgent {
            let oldest = map.sorted { $0.value.updatedAt < $1.value.updatedAt }.prefix(map.count - maxEntriesPerAgent)
            for (key, _) in oldest { map[key] = nil }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(map), to: storePath(agentId: agentId))
        maps[agentId] = map
    }

    private func archive(_ file: TranscriptFile, suffix: String, nowMs: Int) throws {
        guard FileManager.default.fileExists(atPath: file.path) else { return }
        let stamp = TranscriptFile.iso(nowMs).replacingOccurrences(of: ":", with: "-")
        guard rename(file.path, "\(file.path).\(suffix).\(stamp)") == 0 else {
            throw AgentError(.unavailable, "cannot archive \(file.path): \(String(cString: strerror(errno)))")
        }
    }
}
