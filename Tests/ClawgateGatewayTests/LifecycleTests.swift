import ClawgateClient
import ClawgateGateway
import ClawgateProtocol
import Foundation
import ServiceLifecycle
import Testing

@Suite("Connection limits and lifecycle")
struct LifecycleTests {
    @Test func preauthConnectionBudget() async throws {
        try await withGateway({ config, _ in config.gateway.limits.maxPreauthConnections = 1 }) { gw in
            // One socket sits before `connect`; the next is refused with 1013.
            let holder = try await withRawSocket(gw) { first in
                let challenge = try await first.challenge()
                let second = try await withRawSocket(gw) { session in await session.remaining() }
                #expect(second.value.isEmpty, "no challenge for a refused socket")
                #expect(second.closeCode == 1013)
                #expect(second.closeReason == "too many pending connections")
                // Finishing the handshake frees the slot.
                try await first.sendConnect(try signedConnectParams(DeviceIdentity(), nonce: challenge.nonce, token: gw.token))
                return try await first.response(id: "connect-1").ok
            }
            #expect(holder.value)
            try await connect(gw.options()) { conn in
                #expect(conn.hello.auth?.role == "operator")
            }
        }
    }

    @Test func oversizedFrameAfterHandshake() async throws {
        try await withGateway({ config, _ in config.gateway.limits.maxPayloadBytes = 65_536 }) { gw in
            let outcome = try await withRawSocket(gw) { session in
                let challenge = try await session.challenge()
                try await session.sendConnect(try signedConnectParams(DeviceIdentity(), nonce: challenge.nonce, token: gw.token))
                let hello = try await session.response(id: "connect-1")
                #expect(hello.payload?["policy"]?["maxPayload"] == 65_536)
                let padding = String(repeating: "x", count: 70_000)
                try await session.send(#"{"type":"req","id":"big","method":"health","params":{"pad":"\#(padding)"}}"#)
                return await session.remaining()
            }
            #expect(!outcome.value.contains { $0["id"] == "big" })
            #expect(outcome.closeCode == 1009)
        }
    }

    @Test func passwordMode() async throws {
        try await withGateway(authMode: .password, password: "pw-secret") { gw in
            var options = gw.options()
            options.token = nil
            options.password = "pw-secret"
            try await connect(options) { conn in
                #expect(conn.helloPayload["snapshot"]?["authMode"] == "password")
            }
            options.password = "nope"
            let wrong = try await expectRejected(options)
            #expect(wrong.error.message == "unauthorized: gateway password mismatch (set gateway.remote.password to match gateway.auth.password)")
            #expect(wrong.error.detailCode == "AUTH_PASSWORD_MISMATCH")
            #expect(wrong.closeCode == 1008)
            options.password = nil
            let missing = try await expectRejected(options)
            #expect(missing.error.detailCode == "AUTH_PASSWORD_MISSING")
            // The shared token is not a password.
            options.token = gw.token
            #expect(try await expectRejected(options).error.detailCode == "AUTH_PASSWORD_MISSING")
        }
    }

    @Test func nodeRoleMayOnlyCallNodeMethods() async throws {
        try await withGateway { gw in
            var options = gw.options(clientId: "node-host", mode: "node", scopes: [OperatorScope.admin], device: DeviceIdentity())
            options.role = "node"
            try await connect(options) { conn in
                #expect(conn.hello.auth?.role == "node")
                // Nodes get no operator scopes, whatever they ask for.
                #expect(conn.hello.auth?.scopes == [])
                #expect(conn.hello.auth?.deviceToken != nil)
                let health = try await expectCallFails(conn, "health")
                #expect(health == ErrorShape(code: "INVALID_REQUEST", message: "unauthorized role: node"))
                let event = try await expectCallFails(conn, "node.event")
                #expect(event == ErrorShape(code: "INVALID_REQUEST", message: "unknown method: node.event"))
            }
        }
    }

    @Test func gracefulShutdownAnnouncesAndCloses1012() async throws {
        let stateDir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: stateDir) }
        let settings = try GatewaySettings.resolve(
            config: GatewayConfig(),
            overrides: .init(port: 0, bind: .custom, customBindHost: "127.0.0.1", token: Secret("test-token")),
            paths: GatewayPaths(stateDir: stateDir), environment: [:]
        )
        let server = try GatewayServer(settings: settings, logger: testLogger)
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let group = try server.makeServiceGroup(onReady: { portContinuation.yield($0) })
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await withDeadline(.seconds(15), "gateway shutdown") { try await group.run() } }
            defer { tasks.cancelAll() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            let gw = TestGateway(server: server, port: port, stateDir: stateDir, token: "test-token")
            let outcome = try await withRawSocket(gw) { session in
                let challenge = try await session.challenge()
                try await session.sendConnect(try signedConnectParams(DeviceIdentity(), nonce: challenge.nonce, token: gw.token))
                #expect(try await session.response(id: "connect-1").ok)
                await group.triggerGracefulShutdown()
                return await session.remaining()
            }
            let shutdown = try #require(outcome.value.first { $0["event"] == "shutdown" })
            #expect(shutdown["payload"]?["reason"] == "gateway stopping")
            #expect(outcome.closeCode == 1012)
            #expect(outcome.closeReason == "service restart")
            // The group ends by itself (bounded by the deadline above).
            try await tasks.next()
        }
    }
}
