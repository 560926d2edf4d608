import ClawgateProtocol
import Foundation

/// What the gateway writes to the audit log, in one place so every surface records the same
/// fields: `surface` (`ws`, `clawlink`, `clawlink.ws`, `seed-api`, `openai`, `tools.invoke`,
/// `hooks`), `remote` (client address), `reason` (an error code), device and client ids.
/// Never a secret: callers pass codes and ids, and free text is capped.
extension GatewayCore {
    /// A refused `connect` on the gateway socket.
    func auditConnectRefused(_ error: ErrorShape, params: ConnectParams?, remote: String) {
        var fields: [String: JSONValue] = [
            "surface": "ws", "remote": .string(remote), "reason": .string(error.detailCode ?? error.code),
            "message": .string(String(error.message.prefix(300))),
        ]
        if let params {
            fields["clientId"] = .string(String(params.client.id.prefix(64)))
            fields["clientMode"] = .string(String(params.client.mode.prefix(64)))
            fields["role"] = .string(String((params.role ?? GatewayRole.operator.rawValue).prefix(32)))
            if let device = params.device { fields["deviceId"] = .string(String(device.id.lowercased().prefix(128))) }
        }
        audit.record(AuditLog.Event.authFailure, fields)
    }

    /// An admitted `connect`: who, from where, with which kind of credential and scopes.
    func auditConnectAdmitted(_ admission: HandshakeAuthorizer.Admission, connId: String, remote: String) {
        var fields: [String: JSONValue] = [
            "surface": "ws", "remote": .string(remote), "connId": .string(connId), "credential": .string(admission.credential),
            "clientId": .string(admission.client.id), "clientMode": .string(admission.client.mode),
            "role": .string(admission.role.rawValue), "scopes": .array(admission.scopes.sorted().map { .string($0) }),
        ]
        if let deviceId = admission.deviceId { fields["deviceId"] = .string(deviceId) }
        audit.record(AuditLog.Event.authSuccess, fields)
    }

    /// Bearer auth on an HTTP surface. Successes are recorded once per surface and address a
    /// minute (see `AuditThrottle`); failures always.
    func auditHTTPAuth(surface: String, allowed: Bool, reason: String?, remote: String, credential: String? = nil) {
        if allowed {
            guard auditThrottle.shouldRecord("\(surface)|\(remote)", nowMs: Clock.nowMs()) else { return }
            audit.record(
                AuditLog.Event.authSuccess,
                ["surface": .string(surface), "remote": .string(remote), "credential": .string(credential ?? settings.authMode.rawValue)]
            )
        } else {
            audit.record(
                AuditLog.Event.authFailure,
                ["surface": .string(surface), "remote": .string(remote), "reason": .string(reason ?? "unauthorized")]
            )
        }
    }

    /// A pairing decision: by an operator (`device.pair.approve|reject`) or automatic
    /// (loopback auto-approval).
    func auditPairingDecision(
        requestId: String?, deviceId: String, decision: String, by: String, role: String?, scopes: [String], remote: String?
    ) {
        var fields: [String: JSONValue] = [
            "deviceId": .string(deviceId), "decision": .string(decision), "by": .string(by),
            "scopes": .array(scopes.sorted().map { .string($0) }),
        ]
        if let requestId { fields["requestId"] = .string(requestId) }
        if let role { fields["role"] = .string(role) }
        if let remote { fields["remote"] = .string(remote) }
        audit.record(AuditLog.Event.pairingDecision, fields)
    }

    /// A device asked to be paired; an operator decides later.
    func auditPairingRequest(requestId: String, deviceId: String, reason: String, role: String, scopes: [String], remote: String?) {
        var fields: [String: JSONValue] = [
            "requestId": .string(requestId), "deviceId": .string(deviceId), "reason": .string(reason), "role": .string(role),
            "scopes": .array(scopes.sorted().map { .string($0) }),
        ]
        if let remote { fields["remote"] = .string(remote) }
        audit.record(AuditLog.Event.pairingRequest, fields)
    }

    /// A call of a method that needs `operator.admin`: method, caller and outcome (`ok`,
    /// `accepted` for answers sent later, `denied`, `error`, `unknown-method`). Never params.
    func auditAdminCall(method: String, caller: ConnectionHandle, outcome: String, errorCode: String? = nil) {
        var fields = Self.callerFields(caller)
        fields["method"] = .string(String(method.prefix(128)))
        fields["outcome"] = .string(outcome)
        if let errorCode { fields["errorCode"] = .string(errorCode) }
        audit.record(AuditLog.Event.adminRPC, fields)
    }

    /// A mesh operation refused for authorization (`forbidden`): wrong namespace, wrong
    /// credential, not the task's party, agent or namespace not allowed.
    func auditMeshDenied(surface: String, operation: String, agentId: String?, reason: String, remote: String?, caller: ConnectionHandle? = nil) {
        var fields = caller.map(Self.callerFields) ?? [:]
        fields["surface"] = .string(surface)
        fields["operation"] = .string(String(operation.prefix(128)))
        fields["reason"] = .string(String(reason.prefix(300)))
        if let agentId { fields["agentId"] = .string(agentId) }
        if let remote { fields["remote"] = .string(remote) }
        audit.record(AuditLog.Event.meshDenied, fields)
    }

    static func callerFields(_ caller: ConnectionHandle) -> [String: JSONValue] {
        var fields: [String: JSONValue] = [
            "connId": .string(caller.connId), "clientId": .string(caller.clientId), "role": .string(caller.role.rawValue),
        ]
        if let deviceId = caller.deviceId { fields["deviceId"] = .string(deviceId) }
        if let remote = caller.remoteIP { fields["remote"] = .string(remote) }
        if let agentId = caller.meshBinding.withLock({ $0?.agentId }) { fields["agentId"] = .string(agentId) }
        return fields
    }
}
