import ClawgateProtocol
import Foundation

/// `device.pair.list|approve|reject|remove` and `device.token.rotate|revoke`.
enum DeviceMethods {
    static func register(into table: inout MethodTable) {
        table.register("device.pair.list", EmptyParams.self) { _, context in
            await context.gateway.pairing.list(nowMs: Clock.nowMs())
        }
        table.register("device.pair.approve", PairingDecisionParams.self) { params, context in
            try await context.gateway.decidePairing(requestId: params.requestId, approve: true, by: context.connection)
        }
        table.register("device.pair.reject", PairingDecisionParams.self) { params, context in
            try await context.gateway.decidePairing(requestId: params.requestId, approve: false, by: context.connection)
        }
        table.register("device.pair.remove", DeviceRemoveParams.self) { params, context in
            let removed = try await context.gateway.pairing.remove(deviceId: params.deviceId)
            guard removed else { throw MethodError.invalidRequest("unknown device: \(params.deviceId)") }
            let connections = context.gateway.registry.connections(deviceId: params.deviceId)
                .filter { $0.connId != context.connection.connId }
            for connection in connections {
                connection.close(code: GatewayCloseCode.policyViolation, reason: "device removed")
            }
            context.gateway.logger.notice(
                "device removed", metadata: ["deviceId": "\(params.deviceId)", "by": "\(context.connection.connId)"]
            )
            return DeviceRemoveResult(deviceId: params.deviceId, removed: true, disconnected: connections.count)
        }
        table.register("device.token.rotate", DeviceTokenRotateParams.self) { params, context in
            guard let role = GatewayRole(rawValue: params.role) else {
                throw MethodError.invalidRequest("invalid device.token.rotate params: role must be \"operator\" or \"node\"")
            }
            guard let device = await context.gateway.pairing.device(params.deviceId) else {
                throw MethodError.invalidRequest("unknown device: \(params.deviceId)")
            }
            guard device.roles.contains(role.rawValue) else {
                throw MethodError.invalidRequest("device \(params.deviceId) is not paired for role \(role.rawValue)")
            }
            let requested = role == .node ? [] : (params.scopes ?? device.scopes)
            // Never hand out more than the caller holds: a token minted by a caller can only
            // carry scopes the caller could use itself.
            if let excess = requested.first(where: { !OperatorScope.satisfies(granted: context.connection.scopes, required: $0) }) {
                throw MethodError(
                    ErrorShape(
                        code: ErrorCode.invalidRequest,
                        message: "cannot grant scope \(excess): the caller does not hold it",
                        details: ["code": "AUTH_SCOPE_MISMATCH", "scope": .string(excess)]
                    )
                )
            }
            if let outside = requested.first(where: { !device.scopes.contains($0) }) {
                throw MethodError.invalidRequest("scope \(outside) was never approved for device \(params.deviceId)")
            }
            let now = Clock.nowMs()
            guard let token = try await context.gateway.pairing.issueToken(
                deviceId: params.deviceId, role: role.rawValue, scopes: requested, nowMs: now
            ) else { throw MethodError.invalidRequest("unknown device: \(params.deviceId)") }
            context.gateway.logger.notice(
                "device token rotated", metadata: ["deviceId": "\(params.deviceId)", "role": "\(role.rawValue)"]
            )
            return DeviceTokenRotateResult(deviceId: params.deviceId, role: role.rawValue, token: token, scopes: requested, rotatedAtMs: now)
        }
        table.register("device.token.revoke", DeviceTokenRevokeParams.self) { params, context in
            let now = Clock.nowMs()
            guard try await context.gateway.pairing.revokeToken(deviceId: params.deviceId, role: params.role, nowMs: now) else {
                throw MethodError.invalidRequest("no live \(params.role) token for device \(params.deviceId)")
            }
            context.gateway.logger.notice(
                "device token revoked", metadata: ["deviceId": "\(params.deviceId)", "role": "\(params.role)"]
            )
            return DeviceTokenRevokeResult(deviceId: params.deviceId, role: params.role, revokedAtMs: now)
        }
    }
}
