/// `config.*` wire types, shaped like the reference gateway's so its clients work unchanged.

/// The value `config.get` shows in place of a secret. Written back unchanged (`config.set`,
/// `config.patch`, `config.apply`), it keeps the secret that is in the file.
public enum ConfigRedaction {
    public static let sentinel = "__OPENCLAW_REDACTED__"
}

/// `config.set` and `config.apply`: the whole file as JSON5 text.
public struct ConfigSetParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["raw", "baseHash", "sessionKey", "note", "restartDelayMs"]
    public var raw: String
    /// The `hash` from `config.get`; required once the file exists.
    public var baseHash: String?
    public var sessionKey: String?
    public var note: String?
    /// How long to wait before an in-process restart the change needs (default 250 ms, so the
    /// response reaches the caller before its socket closes).
    public var restartDelayMs: Int?

    public init(raw: String, baseHash: String? = nil, restartDelayMs: Int? = nil) {
        self.raw = raw
        self.baseHash = baseHash
        self.restartDelayMs = restartDelayMs
    }
}

/// `config.patch`: a JSON merge patch (RFC 7386) as JSON5 text.
public struct ConfigPatchParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["raw", "baseHash", "sessionKey", "note", "restartDelayMs", "replacePaths"]
    public var raw: String
    public var baseHash: String?
    public var sessionKey: String?
    public var note: String?
    public var restartDelayMs: Int?
    /// Key paths whose value the patch replaces as a whole instead of merging into it.
    public var replacePaths: [String]?

    public init(raw: String, baseHash: String? = nil, restartDelayMs: Int? = nil, replacePaths: [String]? = nil) {
        self.raw = raw
        self.baseHash = baseHash
        self.restartDelayMs = restartDelayMs
        self.replacePaths = replacePaths
    }
}

/// One validation problem: the key path and what is wrong.
public struct ConfigIssue: Codable, Sendable, Equatable {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
}

/// What the reload machinery is doing: mode, the applied file's hash, the last problem and the
/// changes that wait for a restart (`hot` mode only reports them).
public struct ConfigReloadStatus: Codable, Sendable, Equatable {
    public var mode: String
    /// Hash of the config the gateway runs with.
    public var appliedHash: String
    public var lastAppliedAtMs: Int?
    /// Why the last edit was refused (the old config stays in force), or nil.
    public var lastError: String?
    public var lastErrorAtMs: Int?
    /// Changed key paths that need a restart the current mode does not do.
    public var pendingRestart: [String]

    public init(
        mode: String, appliedHash: String, lastAppliedAtMs: Int?, lastError: String?, lastErrorAtMs: Int?, pendingRestart: [String]
    ) {
        self.mode = mode
        self.appliedHash = appliedHash
        self.lastAppliedAtMs = lastAppliedAtMs
        self.lastError = lastError
        self.lastErrorAtMs = lastErrorAtMs
        self.pendingRestart = pendingRestart
    }
}

/// `config.get`: the file as it is now, secrets redacted.
public struct ConfigSnapshotResult: Codable, Sendable, Equatable {
    public var path: String
    public var exists: Bool
    /// The file's text with secrets redacted, or nil when they cannot be redacted reliably.
    public var raw: String?
    /// The parsed file (redacted), or nil when it is not valid JSON5.
    public var parsed: JSONValue?
    public var resolved: JSONValue?
    public var valid: Bool
    public var config: JSONValue
    /// SHA-256 (hex) of the file's bytes: the `baseHash` for writes.
    public var hash: String
    public var issues: [ConfigIssue]
    public var warnings: [ConfigIssue]
    public var legacyIssues: [ConfigIssue]
    public var reload: ConfigReloadStatus

    public init(
        path: String, exists: Bool, raw: String?, parsed: JSONValue?, valid: Bool, config: JSONValue, hash: String,
        issues: [ConfigIssue], reload: ConfigReloadStatus
    ) {
        self.path = path
        self.exists = exists
        self.raw = raw
        self.parsed = parsed
        self.resolved = parsed
        self.valid = valid
        self.config = config
        self.hash = hash
        self.issues = issues
        self.warnings = []
        self.legacyIssues = []
        self.reload = reload
    }
}

/// How a config change took effect.
public enum ConfigApplyOutcome: String, Codable, Sendable, Equatable {
    /// Applied in memory, no restart.
    case hot
    /// Applied; the listeners restart in process.
    case restart
    /// Hot-safe parts applied; the rest waits for a restart (`hot` mode).
    case pendingRestart = "pending-restart"
    /// Written but not applied (`config.set` in `off` mode).
    case notApplied = "not-applied"
    /// Nothing the gateway uses changed.
    case none
}

/// The restart a change needs.
public struct ConfigRestartInfo: Codable, Sendable, Equatable {
    public var required: Bool
    /// The changed settings that need it (key paths).
    public var paths: [String]
    /// Whether the gateway restarts its listeners by itself (`hybrid`, `restart`).
    public var scheduled: Bool
    public var delayMs: Int?

    public init(required: Bool, paths: [String], scheduled: Bool, delayMs: Int?) {
        self.required = required
        self.paths = paths
        self.scheduled = scheduled
        self.delayMs = delayMs
    }
}

/// `config.set`, `config.patch`, `config.apply`.
public struct ConfigWriteResult: Codable, Sendable, Equatable {
    public var ok: Bool
    public var path: String
    /// The new config, secrets redacted.
    public var config: JSONValue
    /// The new file's hash (the next `baseHash`).
    public var hash: String
    public var previousHash: String
    public var changedPaths: [String]
    public var applied: ConfigApplyOutcome
    public var restart: ConfigRestartInfo
    /// Where the previous file was kept.
    public var backupPath: String?

    public init(
        path: String, config: JSONValue, hash: String, previousHash: String, changedPaths: [String], applied: ConfigApplyOutcome,
        restart: ConfigRestartInfo, backupPath: String?
    ) {
        self.ok = true
        self.path = path
        self.config = config
        self.hash = hash
        self.previousHash = previousHash
        self.changedPaths = changedPaths
        self.applied = applied
        self.restart = restart
        self.backupPath = backupPath
    }
}

/// `config.schema`.
public struct ConfigSchemaResult: Codable, Sendable, Equatable {
    /// JSON Schema (draft 2020-12) of the config file.
    public var schema: JSONValue
    /// Per key path: `label`, `help`, `sensitive`, `restart` (needs a restart to apply).
    public var uiHints: [String: JSONValue]
    public var version: String
    public var generatedAt: String

    public init(schema: JSONValue, uiHints: [String: JSONValue], version: String, generatedAt: String) {
        self.schema = schema
        self.uiHints = uiHints
        self.version = version
        self.generatedAt = generatedAt
    }
}

/// `config.changed` event: a new config is in force (or waits for a restart).
public struct ConfigChangedEvent: Codable, Sendable, Equatable {
    public var path: String
    public var hash: String
    public var previousHash: String
    public var changedPaths: [String]
    /// `file` (the watcher), `config.set`, `config.patch`, `config.apply`.
    public var source: String
    public var applied: ConfigApplyOutcome
    public var restart: ConfigRestartInfo
    public var mode: String
    public var ts: Int

    public init(
        path: String, hash: String, previousHash: String, changedPaths: [String], source: String, applied: ConfigApplyOutcome,
        restart: ConfigRestartInfo, mode: String, ts: Int
    ) {
        self.path = path
        self.hash = hash
        self.previousHash = previousHash
        self.changedPaths = changedPaths
        self.source = source
        self.applied = applied
        self.restart = restart
        self.mode = mode
        self.ts = ts
    }
}
