import ClawgateClient
import ClawgateGateway
import ClawgateProtocol
import Foundation
import HTTPTypes
import Testing

/// A "remote" device: a loopback socket carrying `X-Forwarded-For` from an untrusted proxy is
/// not direct-local, so it is not auto-approved.
func remoteOptions(_ gw: TestGateway, identity: DeviceIdentity, scopes: [String] = [OperatorScope.read, OperatorScope.write])
    -> GatewayClientOptions
{
    var options = gw.options(clientId: "openclaw-ios", mode: "ui", scopes: scopes, device: identity)
    options.client.platform = "iOS"
    options.client.deviceFamily = "iPhone"
    options.client.displayName = "Test Phone"
    options.headers[forwardedForHeader] = "203.0.113.7"
    return options
}

/// Expects the documented "pairing required" refusal and returns its request id.
func expectPairingRequired(_ options: GatewayClientOptions, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
    let rejected = try await expectRejected(options, sourceLocation: sourceLocation)
    #expect(rejected.error.code == "NOT_PAIRED", sourceLocation: sourceLocation)
    #expect(rejected.error.message == "pairing required", sourceLocation: sourceLocation)
    #expect(rejected.error.detailCode == "PAIRING_REQUIRED", sourceLocation: sourceLocation)
    #expect(rejected.closeCode == 1008, sourceLocation: sourceLocation)
    #expect(rejected.closeReason == "pairing required", sourceLocation: sourceLocation)
    return try #require(rejected.error.details?["requestId"]?.stringValue, sourceLocation: sourceLocation)
}

@Suite("Pairing")
struct PairingTests {
    @Test func remoteDeviceIsApprovedByAnAdmin() async throws {
        try await withGateway { gw in
            let phone = DeviceIdentity()
            try await connect(gw.adminOptions()) { admin in
                let requestId = try await expectPairingRequired(remoteOptions(gw, identity: phone))

                let requested = try await waitForEvent(admin, "device.pair.requested")
                #expect(requested.payload?["requestId"] == .string(requestId))
                #expect(requested.payload?["deviceId"] == .string(phone.deviceId))
                #expect(requested.payload?["reason"] == "not-paired")
                #expect(requested.seq != nil)

                let list = try await admin.call("device.pair.list", EmptyParams(), as: DevicePairListResult.self)
                let pending = try #require(list.pending.first { $0.requestId == requestId })
                #expect(pending.deviceId == phone.deviceId)
                #expect(pending.publicKey == phone.publicKey.base64URL)
                #expect(pending.scopes == [OperatorScope.read, OperatorScope.write])
                #expect(pending.role == "operator")
                #expect(pending.clientId == "openclaw-ios")
                #expect(pending.displayName == "Test Phone")
                #expect(!list.paired.contains { $0.deviceId == phone.deviceId })

                // Asking again while pending keeps the same request (and announces nothing new).
                #expect(try await expectPairingRequired(remoteOptions(gw, identity: phone)) == requestId)

                let resolved = try await admin.call(
                    "device.pair.approve", PairingDecisionParams(requestId: requestId), as: PairingResolved.self
                )
                #expect(resolved.decision == "approved")
                #expect(resolved.deviceId == phone.deviceId)
                let event = try await waitForEvent(admin, "device.pair.resolved")
                #expect(event.payload?["requestId"] == .string(requestId))
                #expect(event.payload?["decision"] == "approved")

                // Approving twice is an error.
                let again = try await expectCallFails(admin, "device.pair.approve", params: ["requestId": .string(requestId)])
                #expect(again.code == "INVALID_REQUEST")
                #expect(again.message == "unknown or expired pairing request: \(requestId)")

                let deviceToken = try await connect(remoteOptions(gw, identity: phone)) { conn in
                    #expect(conn.hello.auth?.scopes == [OperatorScope.read, OperatorScope.write])
                    #expect(try await conn.call("health")["ok"] == true)
                    return try #require(conn.hello.auth?.deviceToken)
                }
                // The device token alone (no shared secret) now admits the remote device.
                var tokenOnly = remoteOptions(gw, identity: phone)
                tokenOnly.token = nil
                tokenOnly.deviceToken = deviceToken
                try await connect(tokenOnly) { conn in
                    #expect(conn.hello.auth?.deviceToken == nil)
                    #expect(conn.hello.auth?.scopes == [OperatorScope.read, OperatorScope.write])
                }

                let after = try await admin.call("device.pair.list", EmptyParams(), as: DevicePairListResult.self)
                #expect(!after.pending.contains { $0.requestId == requestId })
                let paired = try #require(after.paired.first { $0.deviceId == phone.deviceId })
                #expect(paired.roles == ["operator"])
                #expect(Set(paired.scopes) == [OperatorScope.read, OperatorScope.write])
                #expect(paired.tokens.map(\.role) == ["operator"])
                // Tokens are never shown, not even hashed.
                let raw = try await admin.call("device.pair.list")
                let text = String(decoding: try JSONCoding.encode(raw), as: UTF8.self)
                #expect(!text.contains(deviceToken))
                #expect(!text.contains("tokenHash"))
            }
        }
    }

    @Test func scopeUpgradeNeedsApprovalAgain() async throws {
        try await withGateway { gw in
            let phone = DeviceIdentity()
            try await connect(gw.adminOptions()) { admin in
                let first = try await expectPairingRequired(remoteOptions(gw, identity: phone, scopes: [OperatorScope.read]))
                try await admin.call("device.pair.approve", params: ["requestId": .string(first)])
                try await connect(remoteOptions(gw, identity: phone, scopes: [OperatorScope.read])) { _ in }

                let upgrade = try await expectRejected(remoteOptions(gw, identity: phone, scopes: [OperatorScope.read, OperatorScope.admin]))
                #expect(upgrade.error.code == "NOT_PAIRED")
                #expect(upgrade.error.details?["reason"] == "scope-upgrade")
                // The approved scopes still work meanwhile.
                try await connect(remoteOptions(gw, identity: phone, scopes: [OperatorScope.read])) { conn in
                    #expect(conn.hello.auth?.scopes == [OperatorScope.read])
                }
            }
        }
    }

    @Test func rejectedRequestDisappears() async throws {
        try await withGateway { gw in
            let phone = DeviceIdentity()
            try await connect(gw.adminOptions()) { admin in
                let requestId = try await expectPairingRequired(remoteOptions(gw, identity: phone))
                let resolved = try await admin.call(
                    "device.pair.reject", PairingDecisionParams(requestId: requestId), as: PairingResolved.self
                )
                #expect(resolved.decision == "rejected")
                let event = try await waitForEvent(admin, "device.pair.resolved")
                #expect(event.payload?["decision"] == "rejected")

                let list = try await admin.call("device.pair.list", EmptyParams(), as: DevicePairListResult.self)
                #expect(list.pending.isEmpty)
                #expect(!list.paired.contains { $0.deviceId == phone.deviceId })

                // Still not admitted: the next attempt files a fresh request.
                let next = try await expectPairingRequired(remoteOptions(gw, identity: phone))
                #expect(next != requestId)

                let unknown = try await expectCallFails(admin, "device.pair.reject", params: ["requestId": "nope"])
                #expect(unknown.message == "unknown or expired pairing request: nope")
            }
        }
    }

    @Test func pairingEventsNeedThePairingScope() async throws {
        try await withGateway { gw in
            // A read-only device does not see pairing traffic, an admin does.
            try await connect(gw.options(scopes: [OperatorScope.read], device: DeviceIdentity())) { reader in
                try await connect(gw.adminOptions()) { admin in
                    let requestId = try await expectPairingRequired(remoteOptions(gw, identity: DeviceIdentity()))
                    _ = try await waitForEvent(admin, "device.pair.requested") { $0.payload?["requestId"] == .string(requestId) }
                    // Give the reader the same chance, then make sure nothing pairing-related arrived.
                    try await admin.call("status")
                    try await reader.call("status")
                    let leaked = try? await waitForEvent(reader, "device.pair.requested", timeout: .milliseconds(300))
                    #expect(leaked == nil)
                }
            }
        }
    }

    @Test func tokenRotationAndRevocation() async throws {
        try await withGateway { gw in
            let phone = DeviceIdentity()
            try await connect(gw.adminOptions()) { admin in
                let requestId = try await expectPairingRequired(remoteOptions(gw, identity: phone))
                try await admin.call("device.pair.approve", params: ["requestId": .string(requestId)])
                let original = try await connect(remoteOptions(gw, identity: phone)) { try #require($0.hello.auth?.deviceToken) }

                // Rotate: a new token that works; the old one stops working.
                let rotated = try await admin.call(
                    "device.token.rotate", DeviceTokenRotateParams(deviceId: phone.deviceId, role: "operator"),
                    as: DeviceTokenRotateResult.self
                )
                #expect(rotated.deviceId == phone.deviceId)
                #expect(rotated.role == "operator")
                #expect(Set(rotated.scopes) == [OperatorScope.read, OperatorScope.write])
                #expect(rotated.token != original)
                var withRotated = remoteOptions(gw, identity: phone)
                withRotated.token = nil
                withRotated.deviceToken = rotated.token
                try await connect(withRotated) { conn in
                    #expect(conn.hello.auth?.scopes == [OperatorScope.read, OperatorScope.write])
                }
                var withOriginal = withRotated
                withOriginal.deviceToken = original
                #expect(try await expectRejected(withOriginal).error.detailCode == "AUTH_DEVICE_TOKEN_MISMATCH")

                // Rotate to a narrower set of scopes: the token carries only those.
                let narrow = try await admin.call(
                    "device.token.rotate",
                    DeviceTokenRotateParams(deviceId: phone.deviceId, role: "operator", scopes: [OperatorScope.read]),
                    as: DeviceTokenRotateResult.self
                )
                withRotated.deviceToken = narrow.token
                try await connect(withRotated) { conn in
                    #expect(conn.hello.auth?.scopes == [OperatorScope.read])
                }

                // Scopes the device was never approved for cannot be minted.
                let never = try await expectCallFails(
                    admin, "device.token.rotate",
                    params: ["deviceId": .string(phone.deviceId), "role": "operator", "scopes": ["operator.admin"]]
                )
                #expect(never.code == "INVALID_REQUEST")
                #expect(never.message == "scope operator.admin was never approved for device \(phone.deviceId)")

                // Unknown device and bad role.
                let unknown = try await expectCallFails(admin, "device.token.rotate", params: ["deviceId": "nope", "role": "operator"])
                #expect(unknown.message == "unknown device: nope")
                let badRole = try await expectCallFails(
                    admin, "device.token.rotate", params: ["deviceId": .string(phone.deviceId), "role": "admin"]
                )
                #expect(badRole.message == "invalid device.token.rotate params: role must be \"operator\" or \"node\"")

                // Revoke: the token stops working.
                let revoked = try await admin.call(
                    "device.token.revoke", DeviceTokenRevokeParams(deviceId: phone.deviceId, role: "operator"),
                    as: DeviceTokenRevokeResult.self
                )
                #expect(revoked.deviceId == phone.deviceId)
                let refused = try await expectRejected(withRotated)
                #expect(refused.error.detailCode == "AUTH_DEVICE_TOKEN_MISMATCH")
                #expect(refused.closeCode == 1008)
                let twice = try await expectCallFails(
                    admin, "device.token.revoke", params: ["deviceId": .string(phone.deviceId), "role": "operator"]
                )
                #expect(twice.message == "no live operator token for device \(phone.deviceId)")
                let list = try await admin.call("device.pair.list", EmptyParams(), as: DevicePairListResult.self)
                let token = try #require(list.paired.first { $0.deviceId == phone.deviceId }?.tokens.first)
                #expect(token.revokedAtMs != nil)
            }
        }
    }

    @Test func rotationCannotExceedTheCallersScopes() async throws {
        try await withGateway { gw in
            // The target device holds admin (auto-approved on loopback with CLI defaults).
            let target = DeviceIdentity()
            try await connect(gw.options(device: target)) { _ in }
            // The caller may pair, but holds nothing else.
            try await connect(gw.options(scopes: [OperatorScope.pairing], device: DeviceIdentity())) { pairer in
                #expect(pairer.hello.auth?.scopes == [OperatorScope.pairing])
                let explicit = try await expectCallFails(
                    pairer, "device.token.rotate",
                    params: ["deviceId": .string(target.deviceId), "role": "operator", "scopes": ["operator.admin"]]
                )
                #expect(explicit.code == "INVALID_REQUEST")
                #expect(explicit.message == "cannot grant scope operator.admin: the caller does not hold it")
                #expect(explicit.detailCode == "AUTH_SCOPE_MISMATCH")
                #expect(explicit.details?["scope"] == "operator.admin")
                // Defaulting to the device's own scopes is no way around it.
                let implicit = try await expectCallFails(
                    pairer, "device.token.rotate", params: ["deviceId": .string(target.deviceId), "role": "operator"]
                )
                #expect(implicit.detailCode == "AUTH_SCOPE_MISMATCH")
                // Within the caller's scopes it is allowed.
                let allowed = try await pairer.call(
                    "device.token.rotate",
                    DeviceTokenRotateParams(deviceId: target.deviceId, role: "operator", scopes: [OperatorScope.pairing]),
                    as: DeviceTokenRotateResult.self
                )
                #expect(allowed.scopes == [OperatorScope.pairing])
                // A read-only caller cannot rotate at all.
                try await connect(gw.options(scopes: [OperatorScope.read], device: DeviceIdentity())) { reader in
                    let denied = try await expectCallFails(
                        reader, "device.token.rotate", params: ["deviceId": .string(target.deviceId), "role": "operator"]
                    )
                    #expect(denied.code == "FORBIDDEN")
                    #expect(denied.details?["missingScope"] == "operator.pairing")
                }
            }
        }
    }

    @Test func removingADeviceDisconnectsIt() async throws {
        try await withGateway { gw in
            let phone = DeviceIdentity()
            try await connect(gw.adminOptions()) { admin in
                let requestId = try await expectPairingRequired(remoteOptions(gw, identity: phone))
                try await admin.call("device.pair.approve", params: ["requestId": .string(requestId)])
                let closed = try await withDeadline(.seconds(8), "removed device") {
                    do {
                        try await GatewayClient.withConnection(remoteOptions(gw, identity: phone), logger: testLogger) { conn in
                            let removed = try await admin.call("device.pair.remove", params: ["deviceId": .string(phone.deviceId)])
                            #expect(removed["removed"] == true)
                            #expect(removed["disconnected"] == 1)
                            // Wait for the gateway to cut us off.
                            for await _ in conn.events {}
                            _ = try await conn.call("health", timeout: .seconds(2))
                        }
                        return false
                    } catch {
                        return true
                    }
                }
                #expect(closed)
                // Paired no more.
                _ = try await expectPairingRequired(remoteOptions(gw, identity: phone))
            }
        }
    }
}
