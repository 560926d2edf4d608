/// Which scope (and role) each method needs: the protocol's authorization table.
///
/// Methods are classified here even before they are implemented, so that callers without the
/// scope learn "missing scope" rather than probing which methods exist; anything unclassified
/// needs `operator.admin` (default deny).
public enum ScopePolicy {
    static let readMethods: Set<String> = [
        "health", "status", "logs.tail", "channels.status", "usage.status", "usage.cost", "tts.status",
        "tts.providers", "models.list", "tools.catalog", "agents.list", "agent.identity.get", "skills.status",
        "voicewake.get", "sessions.list", "sessions.get", "sessions.preview", "sessions.resolve", "sessions.usage",
        "cron.list", "cron.status", "cron.runs", "gateway.identity.get", "system-presence", "last-heartbeat",
        "node.list", "node.describe", "chat.history", "config.schema.lookup", "talk.config", "agents.files.list",
        "agents.files.get", "doctor.memory.status", "commands.list", "tasks.list", "tasks.get",
        "mesh.discover", "mesh.capabilities", "mesh.tasks.get", "mesh.tasks.list", "mesh.events.since",
        "mesh.broadcasts.list", "mesh.files.get", "mesh.files.list", "mesh.state.get",
    ]
    static let writeMethods: Set<String> = [
        "send", "poll", "agent", "agent.wait", "wake", "talk.mode", "talk.speak", "tts.enable", "tts.disable",
        "tts.convert", "tts.setProvider", "voicewake.set", "node.invoke", "chat.send", "chat.abort",
        "browser.request", "push.test", "tools.invoke", "tasks.cancel",
        "mesh.register", "mesh.heartbeat", "mesh.delegate", "mesh.accept", "mesh.reject", "mesh.update",
        "mesh.complete", "mesh.fail", "mesh.cancel", "mesh.poll", "mesh.ack", "mesh.broadcast", "mesh.files.put",
        "mesh.files.delete", "mesh.state.set",
    ]
    static let approvalMethods: Set<String> = [
        "exec.approval.request", "exec.approval.waitDecision", "exec.approval.resolve", "exec.approval.get",
        "exec.approval.list",
    ]
    static let pairingMethods: Set<String> = ["device.token.rotate", "device.token.revoke", "node.rename"]
    static let adminPrefixes = ["config.", "exec.approvals.", "wizard.", "update."]
    static let readPrefixes = ["sessions.usage."]

    /// Methods only a `node` connection may call.
    public static let nodeMethods: Set<String> = [
        "node.invoke.result", "node.event", "node.pending.pull", "node.pending.ack", "node.pending.drain",
        "node.canvas.capability.refresh", "node.pluginSurface.refresh", "skills.bins", "node.pluginTools.update",
        "node.skills.update",
    ]

    /// The operator scope a method requires.
    public static func requiredScope(for method: String) -> String {
        if adminPrefixes.contains(where: { method.hasPrefix($0) }) { return OperatorScope.admin }
        if readMethods.contains(method) || readPrefixes.contains(where: { method.hasPrefix($0) }) {
            return OperatorScope.read
        }
        if writeMethods.contains(method) { return OperatorScope.write }
        if approvalMethods.contains(method) || method.hasPrefix("plugin.approval.") { return OperatorScope.approvals }
        if pairingMethods.contains(method) || method.hasPrefix("device.pair.") || method.hasPrefix("node.pair.") {
            return OperatorScope.pairing
        }
        return OperatorScope.admin
    }

    /// Why a connection may not call a method, or nil when it may.
    public enum Denial: Sendable, Equatable {
        case wrongRole(String)
        case missingScope(String)
    }

    public static func authorize(method: String, role: GatewayRole, scopes: some Collection<String>) -> Denial? {
        let isNodeMethod = nodeMethods.contains(method)
        switch role {
        case .node:
            return isNodeMethod ? nil : .wrongRole(role.rawValue)
        case .operator:
            if isNodeMethod { return .wrongRole(role.rawValue) }
            let required = requiredScope(for: method)
            return OperatorScope.satisfies(granted: scopes, required: required) ? nil : .missingScope(required)
        }
    }

    /// The error a denied call gets, in the form the negotiated protocol expects.
    public static func error(for denial: Denial, protocolVersion: Int) -> ErrorShape {
        switch denial {
        case .wrongRole(let role):
            return ErrorShape(code: ErrorCode.invalidRequest, message: "unauthorized role: \(role)")
        case .missingScope(let scope):
            let message = "missing scope: \(scope)"
            if protocolVersion >= 4 {
                return ErrorShape(
                    code: ErrorCode.forbidden, message: message,
                    details: ["code": "MISSING_SCOPE", "missingScope": .string(scope), "requiredScopes": [.string(scope)]]
                )
            }
            return ErrorShape(code: ErrorCode.invalidRequest, message: message)
        }
    }
}
