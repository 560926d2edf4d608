import ClawgateClient
import ClawgateGateway
import ClawgateProtocol
import Foundation
import HTTPTypes
import NIOCore
import Testing

/// Hostile inputs found in review: each must be refused without hurting the gateway.
@Suite("Hardening")
struct HardeningTests {
    @Test func extremeSignedAtIsRejectedNotACrash() async throws {
        try await withGateway { gw in
            for signedAt in [Int.min, Int.max, -1] {
                let outcome = try await withRawSocket(gw) { session in
                    let challenge = try await session.challenge()
                    let params = try signedConnectParams(DeviceIdentity(), nonce: challenge.nonce, token: gw.token, signedAt: signedAt)
                    try await session.sendConnect(params)
                    return try await session.response(id: "connect-1")
                }
                #expect(outcome.value.ok == false)
                #expect(outcome.value.error?.detailCode == ConnectErrorDetailCode.deviceAuthSignatureExpired)
                #expect(outcome.closeCode == 1008)
            }
            // Still serving.
            try await connect(gw.adminOptions()) { conn in
                let health = try await conn.call("health")
                #expect(health["ok"] == true)
            }
        }
    }

    @Test func loopbackBehindAnUntrustedProxyIsRateLimited() async throws {
        try await withGateway({ config, _ in config.gateway.auth.rateLimit.maxAttempts = 2 }) { gw in
            // No browser Origin, but a proxy header: not a direct local client, so not exempt.
            var wrong = gw.options(token: "wrong")
            wrong.headers[forwardedForHeader] = "198.51.100.4"
            for _ in 0..<2 {
                #expect(try await expectRejected(wrong).error.detailCode == ConnectErrorDetailCode.authTokenMismatch)
            }
            var right = gw.options()
            right.headers[forwardedForHeader] = "198.51.100.99"
            let limited = try await expectRejected(right)
            #expect(limited.error.detailCode == ConnectErrorDetailCode.authRateLimited)
            #expect((limited.error.retryAfterMs ?? 0) > 0)
            // A direct local client is still exempt.
            try await connect(gw.options()) { _ in }
        }
    }

    @Test func trustedProxyClientAddressIsTheRightmostUntrustedHop() async throws {
        try await withGateway({ config, _ in
            config.gateway.trustedProxies = ["127.0.0.1"]
            config.gateway.auth.rateLimit.maxAttempts = 1
        }) { gw in
            // The client forges a loopback entry on the left; the proxy appends the real peer.
            var forged = gw.options(token: "wrong")
            forged.headers[forwardedForHeader] = "127.0.0.1, 203.0.113.50"
            #expect(try await expectRejected(forged).error.detailCode == ConnectErrorDetailCode.authTokenMismatch)
            // Same real peer, different forged prefix: still the same limiter bucket.
            var again = gw.options()
            again.headers[forwardedForHeader] = "10.1.2.3, 203.0.113.50"
            #expect(try await expectRejected(again).error.detailCode == ConnectErrorDetailCode.authRateLimited)
            // Another real peer is unaffected.
            var other = gw.options()
            other.headers[forwardedForHeader] = "127.0.0.1, 203.0.113.51"
            try await connect(other) { conn in
                #expect(conn.hello.auth?.scopes == [])
            }
        }
    }

    @Test func pairingApproverCannotGrantScopesItLacks() async throws {
        try await withGateway { gw in
            // A remote device asks for admin.
            let remote = DeviceIdentity()
            let rejected = try await expectRejected(remoteOptions(gw, identity: remote, scopes: [OperatorScope.admin]))
            let requestId = try #require(rejected.error.details?["requestId"]?.stringValue)
            // A pairing-only operator may not approve it...
            try await connect(gw.options(scopes: [OperatorScope.pairing], device: DeviceIdentity())) { pairer in
                let response = try await pairer.request("device.pair.approve", params: ["requestId": .string(requestId)])
                #expect(response.ok == false)
                #expect(response.error?.detailCode == "AUTH_SCOPE_MISMATCH")
            }
            // ...an admin may.
            try await connect(gw.adminOptions()) { admin in
                let resolved = try await admin.call(
                    "device.pair.approve", PairingDecisionParams(requestId: requestId), as: PairingResolved.self
                )
                #expect(resolved.decision == "approved")
            }
        }
    }

    @Test func oversizedPreauthFrameIsDroppedWithoutBuffering() async throws {
        try await withGateway { gw in
            // 2 MiB in one frame before connect: far past the 64 KiB pre-auth budget. The socket
            // is dropped at the TCP level long before the frame is complete.
            let outcome = try await withRawSocket(gw) { session in
                _ = try await session.challenge()
                let big = String(repeating: "x", count: 2 << 20)
                do {
                    try await session.outbound.write(.text(#"{"type":"req","id":"c","method":"connect","params":{"pad":"\#(big)"}}"#))
                } catch {}
                return await session.remaining().count
            }
            #expect(outcome.value == 0)
            #expect(outcome.closeCode == nil || outcome.closeCode == 1009)
            // The gateway is unaffected.
            try await connect(gw.adminOptions()) { _ in }
        }
    }
}
