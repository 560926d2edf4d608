import ClawgateProtocol
import Foundation
import HTTPTypes

/// Decides whether a `connect` request is admitted, in the reference order: protocol range →
/// role → browser origin → rate limit → shared secret → device identity → device token →
/// pairing → scopes. Every rejection carries the documented error and close code.
struct HandshakeAuthorizer: Sendable {
    let gateway: GatewayCore

    /// A refused handshake: the response error and how to close the socket.
    struct Rejection: Error, Sendable {
        var error: ErrorShape
        var closeCode: UInt16 = GatewayCloseCode.policyViolation
    }

    /// An admitted connection.
    struct Admission: Sendable {
        var protocolVersion: Int
        var role: GatewayRole
        var scopes: [String]
        var client: ClientInfo
        var caps: [String]
        var deviceId: String?
        var issuedDeviceToken: String?
        var issuedAtMs: Int?
        /// What admitted the client, for the audit log: the auth mode (`token`, `password`,
        /// `trusted-proxy`, `none`) or `device-token`.
        var credential = "none"
    }

    static let signatureSkewMs = 120_000

    func authorize(_ params: ConnectParams, request: UpgradeRequest, nonce: String) async -> Result<Admission, Rejection> {
        do {
            return .success(try await admit(params, request: request, nonce: nonce))
        } catch let rejection as Rejection {
            return .failure(rejection)
        } catch {
            return .failure(Rejection(error: ErrorShape(code: ErrorCode.unavailable, message: "connect failed: \(error)")))
        }
    }

    private func admit(_ params: ConnectParams, request: UpgradeRequest, nonce: String) async throws -> Admission {
        // Shape checks (closed enums, non-empty strings).
        guard let clientId = GatewayClientID.canonical(params.client.id) else {
            throw invalidParams("client.id: unknown client id \"\(params.client.id)\" (expected one of \(GatewayClientID.all.joined(separator: ", ")))")
        }
        guard let clientMode = GatewayClientMode.canonical(params.client.mode) else {
            throw invalidParams("client.mode: unknown client mode \"\(params.client.mode)\" (expected one of \(GatewayClientMode.all.joined(separator: ", ")))")
        }
        guard !params.client.version.isEmpty else { throw invalidParams("client.version: must not be empty") }
        guard !params.client.platform.isEmpty else { throw invalidParams("client.platform: must not be empty") }
        guard params.minProtocol >= 1, params.maxProtocol >= 1 else {
            throw invalidParams("minProtocol and maxProtocol must be integers >= 1")
        }

        // 1. Protocol range.
        guard let version = ProtocolVersion.negotiate(clientMin: params.minProtocol, clientMax: params.maxProtocol) else {
            throw Rejection(
                error: ErrorShape(
                    code: ErrorCode.invalidRequest, message: "protocol mismatch",
                    details: [
                        "code": .string(ConnectErrorDetailCode.protocolMismatch),
                        "expectedProtocol": .int(ProtocolVersion.maximum),
                        "supportedProtocols": .array(ProtocolVersion.supported.map { .int($0) }),
                        "clientRange": .array([.int(params.minProtocol), .int(params.maxProtocol)]),
                    ]
                ),
                closeCode: GatewayCloseCode.protocolError
            )
        }

        // 2. Role.
        let roleName = params.role ?? GatewayRole.operator.rawValue
        guard let role = GatewayRole(rawValue: roleName) else {
            throw invalidParams("role: expected \"operator\" or \"node\", got \"\(roleName)\"")
        }

        // 3. Browser origin.
        if let origin = request.origin, !gateway.originPolicy.isAllowed(origin, directLocal: request.isDirectLocal) {
            throw Rejection(
                error: ErrorShape(
                    code: ErrorCode.invalidRequest,
                    message: "origin not allowed (\(origin) is not in gateway.controlUi.allowedOrigins)",
                    details: ["code": .string(ConnectErrorDetailCode.originNotAllowed), "origin": .string(origin)]
                )
            )
        }

        // 4. Rate limit on failed attempts.
        let address = request.clientAddress(trustedProxies: gateway.settings.trustedProxies)
        let limited = gateway.rateLimiter.applies(directLocal: request.isDirectLocal, hasBrowserOrigin: request.origin != nil)
        let limiterKey = address?.ip ?? "unknown"
        if limited, let retryAfter = gateway.rateLimiter.beginAttempt(limiterKey, nowMs: Clock.nowMs()) {
            throw Rejection(
                error: ErrorShape(
                    code: ErrorCode.invalidRequest,
                    message: "unauthorized: too many failed authentication attempts (retry later)",
                    details: [
                        "code": .string(ConnectErrorDetailCode.authRateLimited),
                        "recommendedNextStep": "wait_then_retry",
                    ],
                    retryable: true, retryAfterMs: retryAfter
                )
            )
        }

        // The attempt was counted by `beginAttempt`; success forgets the address's failures.
        let admission = try await authenticate(
            params, version: version, role: role, clientId: clientId, clientMode: clientMode, request: request,
            nonce: nonce, address: address
        )
        if limited { gateway.rateLimiter.recordSuccess(limiterKey) }
        return admission
    }

    private func authenticate(
        _ params: ConnectParams, version: Int, role: GatewayRole, clientId: String, clientMode: String,
        request: UpgradeRequest, nonce: String, address: ClientAddress?
    ) async throws -> Admission {
        let settings = gateway.settings
        let auth = params.auth ?? ConnectAuth()
        // 5. Shared secret.
        let sharedFailure = checkSharedSecret(auth, request: request)

        // 6. Device identity.
        var deviceKey: DevicePublicKey?
        if let device = params.device {
            deviceKey = try verifyDevice(device, params: params, role: role, nonce: nonce)
        }

        // 7. Device token (when presented, it is checked even if the shared secret passed, so
        // that a valid one is not needlessly replaced).
        var deviceTokenScopes: [String]?
        let presentedDeviceToken = auth.deviceToken ?? (sharedFailure != nil ? auth.token : nil)
        if let device = params.device, let token = presentedDeviceToken, !token.isEmpty {
            deviceTokenScopes = await gateway.pairing.verifyToken(deviceId: device.id.lowercased(), role: role.rawValue, token: token)
        }
        if let sharedFailure, deviceTokenScopes == nil {
            if let explicit = auth.deviceToken, !explicit.isEmpty, params.device != nil, auth.token == nil, auth.password == nil {
                throw authFailure(
                    "unauthorized: device token mismatch (rotate the token or pair the device again)",
                    code: ConnectErrorDetailCode.authDeviceTokenMismatch, nextStep: "update_auth_credentials"
                )
            }
            throw sharedFailure
        }

        let requested = (params.scopes ?? []).filter { OperatorScope.all.contains($0) }
        let directLocal = request.isDirectLocal

        guard let device = params.device, let deviceKey else {
            // Device-less connections.
            if role == .node {
                throw Rejection(
                    error: ErrorShape(
                        code: ErrorCode.notPaired, message: "device identity required",
                        details: ["code": .string(ConnectErrorDetailCode.deviceIdentityRequired)]
                    )
                )
            }
            // Only the loopback trusted-backend path keeps self-declared scopes.
            let trustedBackend = clientId == "gateway-client" && clientMode == "backend" && directLocal
            return Admission(
                protocolVersion: version, role: role, scopes: trustedBackend ? requested : [],
                client: normalized(params.client, id: clientId, mode: clientMode), caps: params.caps ?? [], deviceId: nil,
                credential: settings.authMode.rawValue
            )
        }

        // 8. Pairing.
        let deviceId = device.id.lowercased()
        let grantedRequest = role == .operator ? requested : []
        let claim = PairingClaim(
            deviceId: deviceId, publicKey: deviceKey.base64URL, role: role.rawValue, scopes: grantedRequest,
            clientId: clientId, clientMode: clientMode, displayName: params.client.displayName,
            platform: params.client.platform, remoteIp: address?.ip
        )
        let now = Clock.nowMs()
        var paired: PairedDevice
        switch await gateway.pairing.standing(of: claim) {
        case .paired(let device):
            paired = device
        case .needsApproval(let reason):
            // Auto-approval needs the shared secret too: a device token alone never widens
            // what its device was granted.
            if directLocal && settings.autoApproveLocalPairing && sharedFailure == nil {
                paired = try await gateway.pairing.autoApprove(claim, nowMs: now)
                gateway.auditPairingDecision(
                    requestId: nil, deviceId: deviceId, decision: "approved", by: "auto:loopback", role: role.rawValue,
                    scopes: paired.scopes, remote: address?.ip
                )
                gateway.logger.notice(
                    "device auto-approved (loopback)", metadata: ["deviceId": "\(deviceId)", "role": "\(role.rawValue)"]
                )
            } else {
                let (pending, isNew) = try await gateway.pairing.request(claim, reason: reason, nowMs: now)
                if isNew {
                    gateway.auditPairingRequest(
                        requestId: pending.requestId, deviceId: deviceId, reason: reason, role: role.rawValue,
                        scopes: pending.scopes, remote: address?.ip
                    )
                    gateway.registry.broadcast(
                        event: GatewayEvent.devicePairRequested, payload: pending.info, droppable: false,
                        requiredScope: OperatorScope.pairing
                    )
                }
                gateway.logger.notice(
                    "pairing required", metadata: ["deviceId": "\(deviceId)", "requestId": "\(pending.requestId)", "reason": "\(reason)"]
                )
                throw Rejection(
                    error: ErrorShape(
                        code: ErrorCode.notPaired, message: "pairing required",
                        details: [
                            "code": .string(ConnectErrorDetailCode.pairingRequired), "requestId": .string(pending.requestId),
                            "reason": .string(reason), "recommendedNextStep": "wait_then_retry", "pauseReconnect": true,
                        ]
                    )
                )
            }
        }

        // 9. Scopes and device token.
        var scopes = grantedRequest
        if let tokenScopes = deviceTokenScopes, sharedFailure != nil {
            scopes = scopes.filter { OperatorScope.satisfies(granted: tokenScopes, required: $0) }
        }
        var issued: String?
        var issuedAt: Int?
        if deviceTokenScopes == nil {
            let tokenScopes = role == .operator ? paired.scopes : []
            issued = try await gateway.pairing.issueToken(deviceId: deviceId, role: role.rawValue, scopes: tokenScopes, nowMs: now)
            issuedAt = now
            if let refreshed = await gateway.pairing.device(deviceId) { paired = refreshed }
        }
        return Admission(
            protocolVersion: version, role: role, scopes: scopes,
            client: normalized(params.client, id: clientId, mode: clientMode), caps: params.caps ?? [],
            deviceId: deviceId, issuedDeviceToken: issued, issuedAtMs: issuedAt,
            credential: sharedFailure == nil ? settings.authMode.rawValue : "device-token"
        )
    }

    /// nil when the shared secret (or trusted proxy, or mode none) admits the client.
    private func checkSharedSecret(_ auth: ConnectAuth, request: UpgradeRequest) -> Rejection? {
        let settings = gateway.settings
        switch settings.authMode {
        case .none:
            return nil
        case .token:
            guard let token = settings.token else {
                return authFailure("unauthorized: gateway token not configured", code: ConnectErrorDetailCode.authTokenNotConfigured, nextStep: "review_auth_configuration")
            }
            guard let presented = auth.token, !presented.isEmpty else {
                return authFailure(
                    "unauthorized: gateway token missing (set gateway.remote.token to match gateway.auth.token)",
                    code: ConnectErrorDetailCode.authTokenMissing, nextStep: "update_auth_configuration"
                )
            }
            return token.matches(presented) ? nil : authFailure(
                "unauthorized: gateway token mismatch (set gateway.remote.token to match gateway.auth.token)",
                code: ConnectErrorDetailCode.authTokenMismatch, nextStep: "update_auth_credentials"
            )
        case .password:
            guard let password = settings.password else {
                return authFailure("unauthorized: gateway password not configured", code: ConnectErrorDetailCode.authPasswordNotConfigured, nextStep: "review_auth_configuration")
            }
            guard let presented = auth.password, !presented.isEmpty else {
                return authFailure(
                    "unauthorized: gateway password missing (set gateway.remote.password to match gateway.auth.password)",
                    code: ConnectErrorDetailCode.authPasswordMissing, nextStep: "update_auth_configuration"
                )
            }
            return password.matches(presented) ? nil : authFailure(
                "unauthorized: gateway password mismatch (set gateway.remote.password to match gateway.auth.password)",
                code: ConnectErrorDetailCode.authPasswordMismatch, nextStep: "update_auth_credentials"
            )
        case .trustedProxy:
            let config = settings.trustedProxy
            guard request.isFromTrustedProxy(settings.trustedProxies) else {
                return authFailure(
                    "unauthorized: trusted-proxy auth requires the connection to come from gateway.trustedProxies",
                    code: ConnectErrorDetailCode.authTrustedProxyRejected, nextStep: "review_auth_configuration"
                )
            }
            guard let header = config.userHeader.flatMap({ HTTPField.Name($0) }),
                let user = request.headers[header], !user.isEmpty
            else {
                return authFailure(
                    "unauthorized: trusted proxy did not send the user header", code: ConnectErrorDetailCode.authTrustedProxyRejected,
                    nextStep: "review_auth_configuration"
                )
            }
            for required in config.requiredHeaders {
                guard let name = HTTPField.Name(required), request.headers[name] != nil else {
                    return authFailure(
                        "unauthorized: trusted proxy did not send required header \(required)",
                        code: ConnectErrorDetailCode.authTrustedProxyRejected, nextStep: "review_auth_configuration"
                    )
                }
            }
            if !config.allowUsers.isEmpty && !config.allowUsers.contains(user) {
                return authFailure(
                    "unauthorized: user is not in gateway.auth.trustedProxy.allowUsers",
                    code: ConnectErrorDetailCode.authUnauthorized, nextStep: "review_auth_configuration"
                )
            }
            return nil
        }
    }

    private func verifyDevice(_ device: DeviceProof, params: ConnectParams, role: GatewayRole, nonce: String) throws -> DevicePublicKey {
        func deviceError(_ message: String, _ code: String) -> Rejection {
            Rejection(
                error: ErrorShape(code: ErrorCode.invalidRequest, message: message, details: ["code": .string(code)])
            )
        }
        guard let key = try? DevicePublicKey(parsing: device.publicKey) else {
            throw deviceError("device public key invalid", ConnectErrorDetailCode.deviceAuthPublicKeyInvalid)
        }
        guard key.deviceId == device.id.lowercased() else {
            throw deviceError("device identity mismatch", ConnectErrorDetailCode.deviceAuthDeviceIdMismatch)
        }
        guard let deviceNonce = device.nonce, !deviceNonce.isEmpty else {
            throw deviceError("device nonce required", ConnectErrorDetailCode.deviceAuthNonceRequired)
        }
        guard deviceNonce == nonce else {
            throw deviceError("device nonce mismatch", ConnectErrorDetailCode.deviceAuthNonceMismatch)
        }
        // signedAt is client input: compare without arithmetic that could overflow.
        let skew = Clock.nowMs().subtractingReportingOverflow(device.signedAt)
        guard !skew.overflow, skew.partialValue.magnitude <= UInt(Self.signatureSkewMs) else {
            throw deviceError("device signature expired", ConnectErrorDetailCode.deviceAuthSignatureExpired)
        }
        let auth = params.auth ?? ConnectAuth()
        var tokens = [auth.token ?? ""]
        if let deviceToken = auth.deviceToken, !tokens.contains(deviceToken) { tokens.append(deviceToken) }
        if !tokens.contains("") { tokens.append("") }
        for token in tokens {
            for version in DeviceAuthPayload.Version.allCases.reversed() {
                let payload = DeviceAuthPayload.build(
                    version,
                    .init(
                        deviceId: device.id, clientId: params.client.id, clientMode: params.client.mode, role: role.rawValue,
                        scopes: params.scopes ?? [], signedAtMs: device.signedAt, token: token, nonce: deviceNonce,
                        platform: params.client.platform, deviceFamily: params.client.deviceFamily
                    )
                )
                if key.isValidSignature(device.signature, for: payload) { return key }
            }
        }
        throw deviceError("device signature invalid", ConnectErrorDetailCode.deviceAuthSignatureInvalid)
    }

    private func invalidParams(_ message: String) -> Rejection {
        Rejection(error: ErrorShape(code: ErrorCode.invalidRequest, message: "invalid connect params: \(message)"))
    }

    private func authFailure(_ message: String, code: String, nextStep: String) -> Rejection {
        Rejection(
            error: ErrorShape(
                code: ErrorCode.invalidRequest, message: message,
                details: ["code": .string(code), "recommendedNextStep": .string(nextStep)]
            )
        )
    }

    private func normalized(_ client: ClientInfo, id: String, mode: String) -> ClientInfo {
        var client = client
        client.id = id
        client.mode = mode
        return client
    }
}
