import ClawgateClient
import ClawgateGateway
import ClawgateProtocol
import Foundation
import Testing

@Suite("Auth rate limiting (end to end)")
struct RateLimitEndToEndTests {
    @Test func browserOriginIsLockedOutAfterRepeatedFailures() async throws {
        try await withGateway({ config, _ in config.gateway.auth.rateLimit.maxAttempts = 3 }) { gw in
            var wrong = gw.options(token: "wrong-token", clientId: "openclaw-control-ui", mode: "webchat")
            wrong.headers[originHeader] = gw.allowedOrigin
            for _ in 0..<3 {
                let rejected = try await expectRejected(wrong)
                #expect(rejected.error.detailCode == "AUTH_TOKEN_MISMATCH")
            }
            var right = wrong
            right.token = gw.token
            let limited = try await expectRejected(right)
            #expect(limited.error.code == "INVALID_REQUEST")
            #expect(limited.error.message == "unauthorized: too many failed authentication attempts (retry later)")
            #expect(limited.error.detailCode == "AUTH_RATE_LIMITED")
            #expect(limited.error.details?["recommendedNextStep"] == "wait_then_retry")
            #expect(limited.error.retryable == true)
            let retryAfter = try #require(limited.error.retryAfterMs)
            #expect(retryAfter > 0 && retryAfter <= 300_000)
            #expect(limited.closeCode == 1008)

            // Loopback without an Origin is exempt and still gets in.
            try await connect(gw.options()) { conn in
                #expect(conn.hello.auth?.role == "operator")
            }
        }
    }

    @Test func successBeforeTheLimitResetsTheCount() async throws {
        try await withGateway({ config, _ in config.gateway.auth.rateLimit.maxAttempts = 3 }) { gw in
            var wrong = gw.options(token: "wrong-token", clientId: "openclaw-control-ui", mode: "webchat")
            wrong.headers[originHeader] = gw.allowedOrigin
            var right = wrong
            right.token = gw.token
            for _ in 0..<2 { _ = try await expectRejected(wrong) }
            try await connect(right) { _ in }
            for _ in 0..<2 { _ = try await expectRejected(wrong) }
            try await connect(right) { _ in }
        }
    }

    @Test func loopbackWithoutOriginIsExempt() async throws {
        try await withGateway({ config, _ in config.gateway.auth.rateLimit.maxAttempts = 2 }) { gw in
            for _ in 0..<4 {
                let observed = try await expectRejected(gw.options(token: "wrong")).error.detailCode
                #expect(observed == "AUTH_TOKEN_MISMATCH")
            }
            try await connect(gw.options()) { _ in }
        }
    }

    @Test func exemptionCanBeTurnedOff() async throws {
        try await withGateway({ config, _ in
            config.gateway.auth.rateLimit.maxAttempts = 2
            config.gateway.auth.rateLimit.exemptLoopback = false
        }) { gw in
            for _ in 0..<2 { _ = try await expectRejected(gw.options(token: "wrong")) }
            let observed = try await expectRejected(gw.options()).error.detailCode
            #expect(observed == "AUTH_RATE_LIMITED")
        }
    }
}
