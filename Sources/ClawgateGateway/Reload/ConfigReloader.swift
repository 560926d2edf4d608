import ClawgateProtocol
import Foundation
import Logging

/// Keeps the settings in force in step with the config file: checks an edited file (from the
/// watcher) or a write through `config.*`, and applies it — hot-safe changes by swapping the
/// settings snapshot, the others by restarting the listeners in process (`hybrid`, `restart`)
/// or by reporting them (`hot`). A file that does not validate changes nothing: the reason is
/// logged, shown in `status` and `config.get`, and the last good config stays in force.
///
/// One actor, so a watcher pass and RPC writes never interleave.
actor ConfigReloader {
    typealias Rejection = ConfigRejection

    let resolver: SettingsResolver
    let logger: Logger
    nonisolated var path: String { resolver.paths.configPath }

    /// Hash and tree of the config in force (what the changed paths are computed against).
    private var appliedHash: String
    private var appliedTree: JSONValue
    private var mode: ReloadMode
    /// The last file content examined, applied or refused, so each edit is handled once.
    private var examinedHash: String
    private var lastAppliedAtMs: Int?
    private var lastError: String?
    private var lastErrorAtMs: Int?
    private var pendingRestart: [String] = []

    /// Default pause before a restart asked for by an RPC, so its response reaches the caller
    /// before the socket closes with 1012.
    static let defaultRestartDelayMs = 250

    init(source: ConfigSource, mode: ReloadMode, logger: Logger) {
        self.resolver = source.resolver
        self.logger = logger
        self.mode = mode
        self.appliedHash = source.document.hash
        self.examinedHash = source.document.hash
        self.appliedTree = (try? source.document.tree()) ?? .object([:])
    }

    var currentMode: ReloadMode { mode }

    var status: ConfigReloadStatus {
        ConfigReloadStatus(
            mode: mode.rawValue, appliedHash: appliedHash, lastAppliedAtMs: lastAppliedAtMs, lastError: lastError,
            lastErrorAtMs: lastErrorAtMs, pendingRestart: pendingRestart
        )
    }

    // MARK: the watcher

    /// Looks at the file once (the watcher calls this when its stat changed); a new content is
    /// applied or refused. A removed file is not an empty config here: it is reported and the
    /// config in force is kept (the zero-config defaults only apply at startup).
    func checkFile(gateway: GatewayCore) {
        guard mode != .off else { return }
        let document: ConfigDocument
        do {
            document = try ConfigDocument.read(path: path)
        } catch {
            let marker = "unreadable"
            guard examinedHash != marker else { return }
            examinedHash = marker
            refuse(Rejection(error), source: "file", newHash: marker, gateway: gateway)
            return
        }
        guard document.hash != examinedHash else { return }
        examinedHash = document.hash
        guard document.exists else {
            logger.warning("config file removed; the config in force stays until the file is back", metadata: ["path": "\(path)"])
            return
        }
        do throws(Rejection) {
            let tree: JSONValue
            do {
                tree = try document.tree()
            } catch {
                throw Rejection(error)
            }
            let settings = try validate(tree).1
            let decision = try decide(settings: settings, tree: tree, running: gateway.settings, applyNow: true)
            commit(decision, hash: document.hash, tree: tree, source: "file", actor: nil, restartDelayMs: 0, gateway: gateway)
        } catch {
            refuse(error, source: "file", newHash: document.hash, gateway: gateway)
        }
    }

    // MARK: config.get

    func snapshot() -> ConfigSnapshotResult {
        var issues: [ConfigIssue] = []
        var document = ConfigDocument(path: path, data: nil)
        var exists = false
        do {
            document = try ConfigDocument.read(path: path)
            exists = document.exists
        } catch {
            exists = true
            issues += Rejection(error).issues
        }
        var parsed: JSONValue?
        if issues.isEmpty {
            do {
                parsed = try document.tree()
            } catch {
                issues += Rejection(error).issues
            }
        }
        if let parsed {
            do throws(Rejection) {
                _ = try validate(parsed)
            } catch {
                issues += error.issues
            }
        }
        let raw = exists ? parsed.flatMap { ConfigSecrets.redactRaw(document.text, tree: $0) } : nil
        let redacted = parsed.map(ConfigSecrets.redact)
        return ConfigSnapshotResult(
            path: path, exists: exists, raw: raw, parsed: redacted, valid: issues.isEmpty, config: redacted ?? .object([:]),
            hash: document.hash, issues: issues, reload: status
        )
    }

    // MARK: config.set / config.patch / config.apply

    enum WriteKind: String, Sendable {
        case set = "config.set"
        case patch = "config.patch"
        case apply = "config.apply"
    }

    struct WriteRequest: Sendable {
        var kind: WriteKind
        var raw: String
        var baseHash: String?
        var restartDelayMs: Int?
        var replacePaths: [String] = []
        /// Who asked, for the audit log (device or connection id, never a secret).
        var actor: String
    }

    /// Checks `baseHash`, builds and validates the new config, writes it (keeping `.bak`) and
    /// applies it: `config.patch` and `config.apply` always, `config.set` as the watcher would
    /// (not in `off` mode). Nothing is written when anything is wrong.
    func write(_ request: WriteRequest, gateway: GatewayCore) throws(MethodError) -> ConfigWriteResult {
        let current: ConfigDocument
        do {
            current = try ConfigDocument.read(path: path)
        } catch {
            throw MethodError.unavailable("\(error)")
        }
        if current.exists {
            guard let base = request.baseHash?.trimmingCharacters(in: .whitespaces), !base.isEmpty else {
                throw MethodError.invalidRequest(
                    "config base hash required; re-run config.get and retry", details: ["code": "CONFIG_BASE_HASH_REQUIRED"]
                )
            }
            guard base == current.hash else {
                throw MethodError.invalidRequest(
                    "config changed since last load; re-run config.get and retry",
                    details: ["code": "CONFIG_BASE_HASH_MISMATCH", "hash": .string(current.hash)]
                )
            }
        }
        let currentTree = try? current.tree()
        var tree = try parseRaw(request.raw, kind: request.kind)
        if request.kind == .patch {
            guard let currentTree, (try? validate(currentTree)) != nil else {
                throw MethodError.invalidRequest("invalid config; fix before patching (see config.get issues)")
            }
            guard case .object = tree else { throw MethodError.invalidRequest("config.patch raw must be an object") }
            tree = try Self.merge(patch: tree, into: currentTree, replacePaths: request.replacePaths)
        }
        let restored: JSONValue
        do {
            restored = try ConfigSecrets.restore(tree, from: currentTree ?? .object([:]))
        } catch {
            throw MethodError.invalidRequest("invalid config: \(error)", details: ["issues": [["path": .string(error.path), "message": .string(error.message)]]])
        }
        let decision: Decision
        do throws(Rejection) {
            let settings = try validate(restored).1
            let applyNow = request.kind != .set || mode != .off
            decision = try decide(settings: settings, tree: restored, running: gateway.settings, applyNow: applyNow)
        } catch {
            throw MethodError.invalidRequest("invalid config: \(error.description)", details: ["issues": error.issuesJSON])
        }
        // A whole file given as text is written as given (comments kept) unless a redacted
        // secret had to be put back; a patch is written as JSON.
        let data: Data
        do {
            data = try request.kind != .patch && restored == tree ? Data(request.raw.utf8) : ConfigDocument.render(restored)
        } catch {
            throw MethodError.unavailable("cannot encode the config: \(error)")
        }
        let backup: String?
        do {
            backup = try ConfigDocument.write(data, to: path)
        } catch {
            throw MethodError.unavailable("cannot write \(path): \(error)")
        }
        let hash = ConfigDocument.hash(of: data)
        let delay = min(max(request.restartDelayMs ?? Self.defaultRestartDelayMs, 0), 60_000)
        let previousHash = current.hash
        commit(decision, hash: hash, tree: restored, source: request.kind.rawValue, actor: request.actor, restartDelayMs: delay, gateway: gateway)
        return ConfigWriteResult(
            path: path, config: ConfigSecrets.redact(restored), hash: hash, previousHash: previousHash, changedPaths: decision.changedPaths,
            applied: decision.outcome, restart: decision.restartInfo(delayMs: delay), backupPath: backup
        )
    }

    private func parseRaw(_ raw: String, kind: WriteKind) throws(MethodError) -> JSONValue {
        do {
            return try ConfigParser.parseTree(data: Data(raw.utf8), file: "\(kind.rawValue) raw")
        } catch {
            throw MethodError.invalidRequest("invalid \(kind.rawValue) params: raw: \(error.message)")
        }
    }

    /// RFC 7386 merge, then each `replacePaths` entry takes the patch's value as a whole.
    static func merge(patch: JSONValue, into target: JSONValue, replacePaths: [String]) throws(MethodError) -> JSONValue {
        var merged = JSONMergePatch.apply(patch, to: target)
        for text in replacePaths {
            guard let path = ConfigKeyPath(parsing: text) else {
                throw MethodError.invalidRequest("invalid config.patch params: replacePaths: not a key path: \"\(text)\"")
            }
            guard let value = patch.value(at: path) else { continue }
            if value.isNull {
                merged = merged.removing(at: path).value
            } else {
                do {
                    merged = try merged.setting(JSONMergePatch.apply(value, to: .null), at: path)
                } catch {
                    throw MethodError.invalidRequest("invalid config.patch params: replacePaths: \(error)")
                }
            }
        }
        return merged
    }

    // MARK: deciding and applying

    private func validate(_ tree: JSONValue) throws(Rejection) -> (GatewayConfig, GatewaySettings) {
        let resolver = self.resolver
        return try Rejection.check(tree, file: path) { config throws(GatewayStartupError) in try resolver.resolve(config).settings }
    }

    struct Decision: Sendable {
        var settings: GatewaySettings
        var outcome: ConfigApplyOutcome
        var mode: ReloadMode
        var changedPaths: [String]
        /// Changed settings that need the listeners restarted.
        var restartPaths: [String]
        var scheduleRestart: Bool

        func restartInfo(delayMs: Int) -> ConfigRestartInfo {
            ConfigRestartInfo(
                required: !restartPaths.isEmpty, paths: restartPaths, scheduled: scheduleRestart,
                delayMs: scheduleRestart ? delayMs : nil
            )
        }
    }

    /// What a validated config does given the settings in force and the reload mode it sets.
    private func decide(
        settings new: GatewaySettings, tree: JSONValue, running old: GatewaySettings, applyNow: Bool
    ) throws(Rejection) -> Decision {
        let mode = new.reloadMode
        let changed = ConfigDiff.changedPaths(from: appliedTree, to: tree)
        let plan = ReloadPlan(from: old, to: new)
        guard applyNow else {
            return Decision(
                settings: old, outcome: .notApplied, mode: self.mode, changedPaths: changed, restartPaths: plan.restartPaths,
                scheduleRestart: false
            )
        }
        if plan.needsRestart || (mode == .restart && !changed.isEmpty) {
            if mode == .hot {
                let hot = ReloadPlan.hotPart(of: new, keeping: old)
                do {
                    try hot.checkAuthIsUsable()
                } catch {
                    throw Rejection(
                        message: "\(path): \(plan.restartPaths.joined(separator: ", ")) need a restart, and the rest cannot apply without it in reload mode \"hot\": \(error.description)"
                    )
                }
                return Decision(
                    settings: hot, outcome: .pendingRestart, mode: mode, changedPaths: changed, restartPaths: plan.restartPaths,
                    scheduleRestart: false
                )
            }
            return Decision(
                settings: new, outcome: .restart, mode: mode, changedPaths: changed, restartPaths: plan.restartPaths, scheduleRestart: true
            )
        }
        return Decision(
            settings: new, outcome: changed.isEmpty ? .none : .hot, mode: mode, changedPaths: changed, restartPaths: [],
            scheduleRestart: false
        )
    }

    private func commit(
        _ decision: Decision, hash: String, tree: JSONValue, source: String, actor: String?, restartDelayMs: Int, gateway: GatewayCore
    ) {
        let previousHash = appliedHash
        examinedHash = hash
        var version: Int?
        if decision.outcome != .notApplied {
            if decision.outcome != .none { version = gateway.replaceSettings(decision.settings) }
            appliedHash = hash
            appliedTree = tree
            mode = decision.mode
            lastAppliedAtMs = Clock.nowMs()
            lastError = nil
            lastErrorAtMs = nil
            gateway.clearReloadFailure()
            pendingRestart = decision.outcome == .pendingRestart ? decision.restartPaths : []
        }
        let restart = decision.restartInfo(delayMs: restartDelayMs)
        var fields: [String: JSONValue] = [
            "source": .string(source), "path": .string(path), "oldHash": .string(previousHash), "newHash": .string(hash),
            "changedPaths": .array(decision.changedPaths.map(JSONValue.string)), "applied": .string(decision.outcome.rawValue),
            "restartPaths": .array(decision.restartPaths.map(JSONValue.string)), "mode": .string(decision.mode.rawValue),
        ]
        if let actor { fields["actor"] = .string(actor) }
        if !gateway.audit.record(AuditLog.Event.configChange, fields) {
            logger.error("could not write the audit record of a config change", metadata: ["path": "\(gateway.audit.path)"])
        }
        logger.notice(
            "\(Self.summary(decision.outcome))",
            metadata: [
                "source": "\(source)", "path": "\(path)", "hash": "\(hash)", "previousHash": "\(previousHash)",
                "changedPaths": "\(decision.changedPaths.joined(separator: ","))", "mode": "\(decision.mode.rawValue)",
                "restartPaths": "\(decision.restartPaths.joined(separator: ","))",
            ]
        )
        if decision.outcome == .pendingRestart {
            logger.warning(
                "config change needs a restart; reload mode \"hot\" only applies the rest",
                metadata: ["restartPaths": "\(decision.restartPaths.joined(separator: ","))"]
            )
        }
        if decision.changedPaths.contains("models.timeouts.connectMs") {
            logger.warning("models.timeouts.connectMs applies from the next start of the process (the HTTP client is shared by running requests)")
        }
        gateway.registry.broadcast(
            event: GatewayEvent.configChanged,
            payload: ConfigChangedEvent(
                path: path, hash: hash, previousHash: previousHash, changedPaths: decision.changedPaths, source: source,
                applied: decision.outcome, restart: restart, mode: decision.mode.rawValue, ts: Clock.nowMs()
            ),
            droppable: false, requiredScope: OperatorScope.admin
        )
        if decision.scheduleRestart, let version {
            let reasonPaths = decision.restartPaths.isEmpty ? "reload mode restart" : decision.restartPaths.joined(separator: ", ")
            let request = ListenerRestarts.Request(reason: "gateway restarting: config change (\(reasonPaths))", settingsVersion: version)
            if restartDelayMs == 0 {
                gateway.restarts.request(request)
            } else {
                // Unstructured on purpose: the caller's response must go out before the restart
                // closes its socket, and nothing waits for this.
                Task {
                    try? await Task.sleep(for: .milliseconds(restartDelayMs))
                    gateway.restarts.request(request)
                }
            }
        }
    }

    /// The restarted listeners could not start (the new port is taken): the restart-only
    /// settings go back to the ones that worked (hot-safe changes stay); the change is reported
    /// as pending until the next edit. Here, so it cannot interleave with a reload.
    func revertAfterListenerFailure(_ message: String, to working: GatewaySettings, gateway: GatewayCore) {
        let current = gateway.settings
        let paths = ReloadPlan(from: working, to: current).restartPaths
        gateway.replaceSettings(ReloadPlan.hotPart(of: current, keeping: working))
        lastError = message
        lastErrorAtMs = Clock.nowMs()
        gateway.reportReloadFailure(message)
        pendingRestart = paths
        logger.error("\(message); starting again with the previous \(paths.joined(separator: ", "))")
    }

    static func summary(_ outcome: ConfigApplyOutcome) -> String {
        switch outcome {
        case .hot: "config change applied in place"
        case .restart: "config change applied; restarting the listeners"
        case .pendingRestart: "config change applied in part; the rest needs a restart"
        case .notApplied: "config file written, not applied (reload mode off)"
        case .none: "config file changed; no setting changed"
        }
    }

    /// A refused edit of the file keeps the config in force; `/ready` reports `config-reload`
    /// until a later edit applies, and the audit log records the refusal (reason, not values).
    private func refuse(_ rejection: Rejection, source: String, newHash: String, gateway: GatewayCore) {
        lastError = rejection.description
        lastErrorAtMs = Clock.nowMs()
        gateway.reportReloadFailure(rejection.description)
        let fields: [String: JSONValue] = [
            "source": .string(source), "path": .string(path), "oldHash": .string(appliedHash), "newHash": .string(newHash),
            "applied": .string("refused"), "error": .string(rejection.description),
        ]
        if !gateway.audit.record(AuditLog.Event.configChange, fields) {
            logger.error("could not write the audit record of a config change", metadata: ["path": "\(gateway.audit.path)"])
        }
        logger.error(
            "config change refused; keeping the config in force",
            metadata: ["source": "\(source)", "error": "\(rejection.description)", "appliedHash": "\(appliedHash)"]
        )
    }
}
