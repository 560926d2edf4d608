import ClawgateClient
import ClawgateGateway
import ClawgateProtocol
import Foundation
import HTTPTypes
import Testing

@Suite("Handshake")
struct HandshakeTests {
    @Test(arguments: [(3, 3, 3), (4, 4, 4), (1, 9, 4)])
    func helloOkFields(minProtocol: Int, maxProtocol: Int, expected: Int) async throws {
        try await withGateway { gw in
            var options = gw.adminOptions()
            options.minProtocol = minProtocol
            options.maxProtocol = maxProtocol
            try await connect(options) { conn in
                let hello = conn.helloPayload
                #expect(hello["type"] == "hello-ok")
                #expect(hello["protocol"]?.intValue == expected)
                #expect(conn.hello.protocol == expected)
                #expect(hello["server"]?["connId"]?.stringValue?.isEmpty == false)
                #expect(hello["server"]?["version"] == .string(GatewaySettings.version))
                let methods = Set(hello["features"]?["methods"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                for method in ["health", "status", "system-presence", "logs.tail", "device.pair.list", "device.pair.approve"] {
                    #expect(methods.contains(method), "features.methods lacks \(method)")
                }
                let events = Set(hello["features"]?["events"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                for event in ["connect.challenge", "tick", "presence", "health", "shutdown", "device.pair.requested"] {
                    #expect(events.contains(event), "features.events lacks \(event)")
                }
                #expect(hello["snapshot"]?["stateVersion"]?["presence"]?.intValue != nil)
                #expect(hello["snapshot"]?["stateVersion"]?["health"]?.intValue != nil)
                #expect(hello["snapshot"]?["health"]?["ok"] == true)
                #expect(hello["snapshot"]?["authMode"] == "token")
                // The gateway itself is always present.
                #expect(hello["snapshot"]?["presence"]?.arrayValue?.contains { $0["mode"] == "gateway" } == true)
                let limits = gw.core.settings.limits
                #expect(hello["policy"]?["maxPayload"]?.intValue == limits.maxPayloadBytes)
                #expect(hello["policy"]?["maxBufferedBytes"]?.intValue == limits.maxBufferedBytes)
                #expect(hello["policy"]?["tickIntervalMs"]?.intValue == limits.tickIntervalMs)
                #expect(hello["policy"]?["maxPayload"] == 26_214_400)
                #expect(hello["policy"]?["maxBufferedBytes"] == 52_428_800)
                #expect(hello["policy"]?["tickIntervalMs"] == 30_000)
                #expect(hello["auth"]?["role"] == "operator")
                #expect(conn.hello.auth?.scopes == OperatorScope.cliDefaults.sorted())
                // First connect of a loopback device: auto-approved and given a token.
                #expect(conn.hello.auth?.deviceToken?.isEmpty == false)
                #expect(conn.hello.auth?.issuedAtMs != nil)
                // Admins see where the state lives.
                #expect(hello["snapshot"]?["stateDir"] == .string(gw.stateDir))
            }
        }
    }

    /// "Success: res hello-ok. Then normal RPC + events": nothing may come between the
    /// challenge and hello-ok, not even the presence broadcast this very connection causes.
    @Test func helloOkIsTheFirstFrameAfterConnect() async throws {
        try await withGateway({ config, _ in config.gateway.limits.tickIntervalMs = 100 }) { gw in
            for index in 0..<5 {
                let outcome = try await withRawSocket(gw) { session in
                    let challenge = try await session.challenge()
                    let client = ClientInfo(id: "openclaw-macos", version: "1", platform: "macOS", mode: "ui", instanceId: "mac-\(index)")
                    let params = try signedConnectParams(DeviceIdentity(), nonce: challenge.nonce, token: gw.token, client: client)
                    try await session.sendConnect(params)
                    let first = try await session.next()
                    let second = try await session.next()
                    return [first, second].compactMap { $0 }
                }
                let frames = outcome.value
                #expect(frames.first?["type"] == "res", "frame before hello-ok: \(String(describing: frames.first))")
                #expect(frames.first?["payload"]?["type"] == "hello-ok")
                // Its own entry is in the snapshot; the presence event announcing it comes after.
                let snapshot = frames.first?["payload"]?["snapshot"]?["presence"]?.arrayValue ?? []
                #expect(snapshot.contains { $0["instanceId"] == .string("mac-\(index)") })
                if frames.count == 2, frames[1]["event"] == "presence" {
                    #expect(frames[1]["stateVersion"]?["presence"] == frames[0]["payload"]?["snapshot"]?["stateVersion"]?["presence"])
                }
            }
        }
    }

    @Test func connIdsAreUniquePerConnection() async throws {
        try await withGateway { gw in
            let first = try await connect(gw.options()) { $0.hello.server.connId }
            let second = try await connect(gw.options()) { $0.hello.server.connId }
            #expect(first != second)
        }
    }

    @Test(arguments: [3, 4])
    func tokenOnlyClientIsAdmittedWithoutScopes(protocolVersion: Int) async throws {
        try await withGateway { gw in
            var options = gw.options(scopes: [OperatorScope.admin])
            options.minProtocol = protocolVersion
            options.maxProtocol = protocolVersion
            try await connect(options) { conn in
                if protocolVersion >= 4 {
                    #expect(conn.hello.auth?.role == "operator")
                    #expect(conn.hello.auth?.scopes == [])
                    #expect(conn.hello.auth?.deviceToken == nil)
                } else {
                    // Protocol 3 carries `auth` only with an issued device token.
                    #expect(conn.hello.auth == nil)
                    #expect(conn.helloPayload["auth"] == nil)
                }
                // Not an admin: no state paths in the snapshot.
                #expect(conn.helloPayload["snapshot"]?["stateDir"] == nil)
                let error = try await expectCallFails(conn, "health")
                #expect(error.message == "missing scope: operator.read")
                if protocolVersion == 3 {
                    #expect(error.code == "INVALID_REQUEST")
                    #expect(error.details == nil)
                } else {
                    #expect(error.code == "FORBIDDEN")
                    #expect(error.detailCode == "MISSING_SCOPE")
                    #expect(error.details?["missingScope"] == "operator.read")
                    #expect(error.details?["requiredScopes"] == ["operator.read"])
                }
                // The socket stays usable after a denied call.
                let again = try await expectCallFails(conn, "status")
                #expect(again.message == "missing scope: operator.read")
            }
        }
    }

    @Test func trustedBackendKeepsDeclaredScopes() async throws {
        try await withGateway { gw in
            let options = gw.options(clientId: "gateway-client", mode: "backend", scopes: [OperatorScope.read])
            try await connect(options) { conn in
                #expect(conn.hello.auth?.scopes == [OperatorScope.read])
                let health = try await conn.call("health")
                #expect(health["ok"] == true)
                #expect(health["defaultAgentId"] == "main")
                // Read only: pairing is still refused.
                let error = try await expectCallFails(conn, "device.pair.list")
                #expect(error.message == "missing scope: operator.pairing")
            }
        }
    }

    @Test func trustedBackendBehindAProxyLosesItsScopes() async throws {
        try await withGateway { gw in
            var options = gw.options(clientId: "gateway-client", mode: "backend", scopes: [OperatorScope.read])
            options.headers[forwardedForHeader] = "198.51.100.4"
            try await connect(options) { conn in
                #expect(conn.hello.auth?.scopes == [])
            }
        }
    }

    @Test(arguments: [DeviceAuthPayload.Version.v2, .v3])
    func deviceTokenLifecycle(signatureVersion: DeviceAuthPayload.Version) async throws {
        try await withGateway { gw in
            let identity = DeviceIdentity()
            var options = gw.options(device: identity)
            options.signatureVersion = signatureVersion
            options.client.deviceFamily = " Desktop "
            let deviceToken = try await connect(options) { conn in
                #expect(conn.hello.auth?.scopes == OperatorScope.cliDefaults.sorted())
                return try #require(conn.hello.auth?.deviceToken)
            }
            // Only the device token, no shared secret.
            var tokenOnly = options
            tokenOnly.token = nil
            tokenOnly.deviceToken = deviceToken
            try await connect(tokenOnly) { conn in
                #expect(conn.hello.auth?.deviceToken == nil, "a valid device token must not be replaced")
                #expect(conn.hello.auth?.scopes == OperatorScope.cliDefaults.sorted())
                let health = try await conn.call("health")
                #expect(health["ok"] == true)
            }
            // The device token sent as auth.token works as well.
            var asToken = options
            asToken.token = deviceToken
            try await connect(asToken) { conn in
                #expect(conn.hello.auth?.deviceToken == nil)
                #expect(conn.hello.auth?.scopes == OperatorScope.cliDefaults.sorted())
            }
            // A wrong device token is refused.
            var wrong = tokenOnly
            wrong.deviceToken = deviceToken + "x"
            let rejected = try await expectRejected(wrong)
            #expect(rejected.error.code == "INVALID_REQUEST")
            #expect(rejected.error.message == "unauthorized: device token mismatch (rotate the token or pair the device again)")
            #expect(rejected.error.detailCode == "AUTH_DEVICE_TOKEN_MISMATCH")
            #expect(rejected.error.details?["recommendedNextStep"] == "update_auth_credentials")
            #expect(rejected.closeCode == 1008)
            // Another device cannot use this device's token.
            var stolen = tokenOnly
            stolen.device = DeviceIdentity()
            let observed = try await expectRejected(stolen).error.detailCode
            #expect(observed == "AUTH_DEVICE_TOKEN_MISMATCH")
        }
    }

    @Test func deviceTokenCannotWidenScopes() async throws {
        try await withGateway { gw in
            let identity = DeviceIdentity()
            let deviceToken = try await connect(gw.options(scopes: [OperatorScope.read], device: identity)) { conn in
                try #require(conn.hello.auth?.deviceToken)
            }
            // With only the device token, asking for more than the device was granted is a
            // scope upgrade that needs an operator, even on loopback (no self-approval).
            var options = gw.options(scopes: [OperatorScope.read, OperatorScope.write], device: identity)
            options.token = nil
            options.deviceToken = deviceToken
            let rejected = try await expectRejected(options)
            #expect(rejected.error.code == "NOT_PAIRED")
            #expect(rejected.error.details?["reason"] == "scope-upgrade")
            #expect(rejected.closeCode == 1008)
            // What was granted still works with the token alone.
            options.scopes = [OperatorScope.read]
            try await connect(options) { conn in
                #expect(conn.hello.auth?.scopes == [OperatorScope.read])
            }
        }
    }

    @Test func impliedScopesNeedNoNewApproval() async throws {
        try await withGateway { gw in
            let identity = DeviceIdentity()
            let deviceToken = try await connect(gw.options(scopes: [OperatorScope.admin], device: identity)) { conn in
                try #require(conn.hello.auth?.deviceToken)
            }
            // operator.admin implies operator.read: no upgrade request, and the token grants it.
            var options = gw.options(scopes: [OperatorScope.read], device: identity)
            options.token = nil
            options.deviceToken = deviceToken
            try await connect(options) { conn in
                #expect(conn.hello.auth?.scopes == [OperatorScope.read])
                let health = try await conn.call("health")
                #expect(health["ok"] == true)
            }
        }
    }
}

@Suite("Handshake rejections")
struct HandshakeRejectionTests {
    @Test func wrongToken() async throws {
        try await withGateway { gw in
            let rejected = try await expectRejected(gw.options(token: "not-the-token"))
            #expect(rejected.error.code == "INVALID_REQUEST")
            let message = "unauthorized: gateway token mismatch (set gateway.remote.token to match gateway.auth.token)"
            #expect(rejected.error.message == message)
            #expect(rejected.error.detailCode == "AUTH_TOKEN_MISMATCH")
            #expect(rejected.error.details?["recommendedNextStep"] == "update_auth_credentials")
            #expect(rejected.closeCode == 1008)
            #expect(rejected.closeReason == message)
        }
    }

    @Test func wrongTokenWithDeviceIsStillRefused() async throws {
        try await withGateway { gw in
            let rejected = try await expectRejected(gw.options(token: "not-the-token", device: DeviceIdentity()))
            #expect(rejected.error.detailCode == "AUTH_TOKEN_MISMATCH")
            #expect(rejected.closeCode == 1008)
        }
    }

    @Test func missingToken() async throws {
        try await withGateway { gw in
            var options = gw.options()
            options.token = nil
            let rejected = try await expectRejected(options)
            #expect(rejected.error.code == "INVALID_REQUEST")
            #expect(rejected.error.message == "unauthorized: gateway token missing (set gateway.remote.token to match gateway.auth.token)")
            #expect(rejected.error.detailCode == "AUTH_TOKEN_MISSING")
            #expect(rejected.error.details?["recommendedNextStep"] == "update_auth_configuration")
            #expect(rejected.closeCode == 1008)
        }
    }

    @Test func protocolMismatch() async throws {
        try await withGateway { gw in
            var options = gw.options()
            options.minProtocol = 5
            options.maxProtocol = 5
            let rejected = try await expectRejected(options)
            #expect(rejected.error.code == "INVALID_REQUEST")
            #expect(rejected.error.message == "protocol mismatch")
            #expect(rejected.error.detailCode == "PROTOCOL_MISMATCH")
            #expect(rejected.error.details?["expectedProtocol"] == 4)
            #expect(rejected.error.details?["supportedProtocols"] == [3, 4])
            #expect(rejected.closeCode == 1002)
            #expect(rejected.closeReason == "protocol mismatch")
        }
    }

    @Test func unknownClientId() async throws {
        try await withGateway { gw in
            let rejected = try await expectRejected(gw.options(clientId: "evil-client"))
            #expect(rejected.error.code == "INVALID_REQUEST")
            #expect(rejected.error.message.hasPrefix("invalid connect params: client.id: unknown client id \"evil-client\""))
            #expect(rejected.closeCode == 1008)
        }
    }

    @Test func unknownClientMode() async throws {
        try await withGateway { gw in
            let rejected = try await expectRejected(gw.options(mode: "worker"))
            #expect(rejected.error.message.hasPrefix("invalid connect params: client.mode: unknown client mode \"worker\""))
            #expect(rejected.closeCode == 1008)
        }
    }

    @Test func unknownRole() async throws {
        try await withGateway { gw in
            var options = gw.options()
            options.role = "worker"
            let rejected = try await expectRejected(options)
            #expect(rejected.error.message == "invalid connect params: role: expected \"operator\" or \"node\", got \"worker\"")
            #expect(rejected.closeCode == 1008)
        }
    }

    @Test func nodeWithoutDeviceNeedsIdentity() async throws {
        try await withGateway { gw in
            var options = gw.options(clientId: "node-host", mode: "node", scopes: [])
            options.role = "node"
            let rejected = try await expectRejected(options)
            #expect(rejected.error.code == "NOT_PAIRED")
            #expect(rejected.error.message == "device identity required")
            #expect(rejected.error.detailCode == "DEVICE_IDENTITY_REQUIRED")
            #expect(rejected.closeCode == 1008)
        }
    }

    @Test func disallowedOrigin() async throws {
        try await withGateway { gw in
            var options = gw.options()
            options.headers[originHeader] = "http://evil.example"
            let rejected = try await expectRejected(options)
            #expect(rejected.error.code == "INVALID_REQUEST")
            #expect(rejected.error.message == "origin not allowed (http://evil.example is not in gateway.controlUi.allowedOrigins)")
            #expect(rejected.error.detailCode == "CONTROL_UI_ORIGIN_NOT_ALLOWED")
            #expect(rejected.error.details?["origin"] == "http://evil.example")
            #expect(rejected.closeCode == 1008)

            // A page on another loopback port (dev server, SSH forward) is fine for a direct
            // loopback client, as in the reference gateway...
            let otherPort = "http://127.0.0.1:\(gw.port == 1 ? 2 : gw.port - 1)"
            options.headers[originHeader] = otherPort
            try await connect(options) { _ in }
            // ...but not once the request came through a proxy.
            options.headers[forwardedForHeader] = "198.51.100.7"
            let observed = try await expectRejected(options).error.detailCode
            #expect(observed == "CONTROL_UI_ORIGIN_NOT_ALLOWED")
            options.headers[forwardedForHeader] = nil

            // An allowed origin next to a foreign one does not launder it.
            options.headers[originHeader] = nil
            options.headers[values: originHeader] = [gw.allowedOrigin, "http://evil.example"]
            let mixed = try await expectRejected(options)
            #expect(mixed.error.detailCode == "CONTROL_UI_ORIGIN_NOT_ALLOWED")
            #expect(mixed.closeCode == 1008)
        }
    }

    @Test func nonBrowserOriginIsNotPoliced() async throws {
        try await withGateway { gw in
            // Every client built on HummingbirdWSClient sends `Origin: ws://127.0.0.1` by itself.
            var options = gw.options()
            options.headers[originHeader] = "ws://somewhere.example"
            try await connect(options) { conn in
                #expect(conn.hello.auth?.role == "operator")
            }
        }
    }

    @Test func allowedOrigins() async throws {
        try await withGateway({ config, _ in
            config.gateway.controlUi.allowedOrigins = ["https://ui.example.com"]
        }) { gw in
            for origin in [gw.allowedOrigin, "http://localhost:\(gw.port)", "https://ui.example.com"] {
                var options = gw.options(clientId: "openclaw-control-ui", mode: "webchat")
                options.headers[originHeader] = origin
                try await connect(options) { conn in
                    #expect(conn.hello.auth?.role == "operator", "origin \(origin)")
                }
            }
        }
    }

    @Test func handshakeTimeout() async throws {
        try await withGateway({ config, _ in config.gateway.limits.handshakeTimeoutMs = 300 }) { gw in
            let started = ContinuousClock.now
            let outcome = try await withRawSocket(gw) { session in
                _ = try await session.challenge()
                return await session.remaining()
            }
            let elapsed = ContinuousClock.now - started
            #expect(outcome.value.isEmpty, "no frame besides the challenge: \(outcome.value)")
            #expect(outcome.closeCode == 1008)
            #expect(outcome.closeReason == "handshake timeout")
            #expect(elapsed >= .milliseconds(250))
            #expect(elapsed < .seconds(3))
        }
    }

    @Test func firstRequestMustBeConnect() async throws {
        try await withGateway { gw in
            let outcome = try await withRawSocket(gw) { session in
                _ = try await session.challenge()
                try await session.send(#"{"type":"req","id":"r1","method":"health"}"#)
                return await session.remaining()
            }
            #expect(outcome.value.count == 1)
            let response = try JSONCoding.decode(ResponseFrame.self, from: try #require(outcome.value.first))
            #expect(response.id == "r1")
            #expect(response.ok == false)
            #expect(response.error == ErrorShape(code: "INVALID_REQUEST", message: "invalid handshake: first request must be connect"))
            #expect(outcome.closeCode == 1008)
        }
    }

    @Test(arguments: [
        #"{"type":"event","event":"hello"}"#, #"{"type":"req","id":"r1"}"#, "[1,2,3]", #"{"id":"r1","method":"connect"}"#,
    ])
    func nonRequestFirstFrameClosesWithoutResponse(frame: String) async throws {
        try await withGateway { gw in
            let outcome = try await withRawSocket(gw) { session in
                _ = try await session.challenge()
                try await session.send(frame)
                return await session.remaining()
            }
            #expect(outcome.value.isEmpty, "unexpected frames: \(outcome.value)")
            #expect(outcome.closeCode == 1008)
            #expect(outcome.closeReason == "invalid request frame")
        }
    }

    @Test func unparsableFirstFrameClosesWithoutResponse() async throws {
        try await withGateway { gw in
            let outcome = try await withRawSocket(gw) { session in
                _ = try await session.challenge()
                try await session.send("{not json")
                return await session.remaining()
            }
            #expect(outcome.value.isEmpty)
            #expect(outcome.closeCode != nil)
        }
    }

    @Test(arguments: [
        (#"{"minProtocol":3,"maxProtocol":4}"#, "invalid connect params: missing required property 'client'"),
        (#"{"minProtocol":"3","maxProtocol":4,"client":{}}"#, "invalid connect params: minProtocol: expected a number"),
        (#""connect me""#, "invalid connect params: <root>: expected an object"),
    ])
    func malformedConnectParams(params: String, message: String) async throws {
        try await withGateway { gw in
            let outcome = try await withRawSocket(gw) { session in
                _ = try await session.challenge()
                try await session.send(#"{"type":"req","id":"c","method":"connect","params":\#(params)}"#)
                return try await session.response(id: "c")
            }
            #expect(outcome.value.error?.code == "INVALID_REQUEST")
            #expect(outcome.value.error?.message == message)
            #expect(outcome.closeCode == 1008)
        }
    }

    @Test func oversizedPreauthFrame() async throws {
        try await withGateway { gw in
            let outcome = try await withRawSocket(gw) { session in
                _ = try await session.challenge()
                let padding = String(repeating: "a", count: 64 * 1024)
                try await session.send(#"{"type":"req","id":"big","method":"connect","params":{"pad":"\#(padding)"}}"#)
                return await session.remaining()
            }
            #expect(outcome.value.isEmpty)
            #expect(outcome.closeCode == 1009)
            #expect(outcome.closeReason == "preauth payload too large")
        }
    }

    @Test func preauthFrameJustUnderTheCapIsAccepted() async throws {
        try await withGateway { gw in
            let outcome = try await withRawSocket(gw) { session in
                let challenge = try await session.challenge()
                var params = try signedConnectParams(DeviceIdentity(), nonce: challenge.nonce, token: gw.token)
                params.userAgent = ""
                let base = try JSONCoding.encode(RequestFrame(id: "c", method: "connect", params: try JSONCoding.value(of: params))).count
                params.userAgent = String(repeating: "u", count: 64 * 1024 - base)
                let text = String(decoding: try JSONCoding.encode(RequestFrame(id: "c", method: "connect", params: try JSONCoding.value(of: params))), as: UTF8.self)
                #expect(text.utf8.count == 64 * 1024)
                try await session.send(text)
                return try await session.response(id: "c")
            }
            #expect(outcome.value.ok, "\(String(describing: outcome.value.error))")
        }
    }
}

@Suite("Device signature rejections")
struct DeviceSignatureTests {
    /// Runs one raw handshake with params built from the challenge, returning the response and close code.
    func rawConnect(
        _ gw: TestGateway, _ build: @escaping @Sendable (ConnectChallenge) throws -> ConnectParams
    ) async throws -> (ResponseFrame, UInt16?, String?) {
        let outcome = try await withRawSocket(gw) { session in
            let challenge = try await session.challenge()
            try await session.sendConnect(try build(challenge))
            let response = try await session.response(id: "connect-1")
            // A refused connect is followed by the close; an admitted one stays open.
            if !response.ok { _ = await session.remaining() }
            return response
        }
        return (outcome.value, outcome.closeCode, outcome.closeReason)
    }

    func expectDeviceError(
        _ result: (ResponseFrame, UInt16?, String?), message: String, code: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let (response, closeCode, closeReason) = result
        #expect(response.ok == false, sourceLocation: sourceLocation)
        #expect(response.error?.code == "INVALID_REQUEST", sourceLocation: sourceLocation)
        #expect(response.error?.message == message, sourceLocation: sourceLocation)
        #expect(response.error?.detailCode == code, sourceLocation: sourceLocation)
        #expect(closeCode == 1008, sourceLocation: sourceLocation)
        #expect(closeReason == message, sourceLocation: sourceLocation)
    }

    @Test func correctlySignedRawConnectIsAdmitted() async throws {
        try await withGateway { gw in
            for version in DeviceAuthPayload.Version.allCases {
                let identity = DeviceIdentity()
                let outcome = try await withRawSocket(gw) { session in
                    let challenge = try await session.challenge()
                    try await session.sendConnect(try signedConnectParams(identity, nonce: challenge.nonce, token: gw.token, version: version))
                    return try await session.response(id: "connect-1")
                }
                #expect(outcome.value.ok)
                #expect(outcome.value.payload?["auth"]?["scopes"] == [.string(OperatorScope.read)])
                #expect(outcome.value.payload?["auth"]?["deviceToken"]?.stringValue != nil)
            }
        }
    }

    @Test func pemPublicKeyIsAccepted() async throws {
        try await withGateway { gw in
            let identity = DeviceIdentity()
            let (response, _, _) = try await rawConnect(gw) { challenge in
                var params = try signedConnectParams(identity, nonce: challenge.nonce, token: gw.token)
                params.device?.publicKey = identity.publicKeyPEM
                return params
            }
            #expect(response.ok, "\(String(describing: response.error))")
        }
    }

    @Test func tamperedParamsInvalidateTheSignature() async throws {
        try await withGateway { gw in
            // Scopes widened after signing.
            let widened = try await rawConnect(gw) { challenge in
                var params = try signedConnectParams(DeviceIdentity(), nonce: challenge.nonce, token: gw.token)
                params.scopes = [OperatorScope.admin]
                return params
            }
            expectDeviceError(widened, message: "device signature invalid", code: "DEVICE_AUTH_SIGNATURE_INVALID")
            // signedAt changed after signing.
            let moved = try await rawConnect(gw) { challenge in
                var params = try signedConnectParams(DeviceIdentity(), nonce: challenge.nonce, token: gw.token)
                params.device?.signedAt -= 1
                return params
            }
            expectDeviceError(moved, message: "device signature invalid", code: "DEVICE_AUTH_SIGNATURE_INVALID")
            // Signed by another key.
            let foreign = try await rawConnect(gw) { challenge in
                var params = try signedConnectParams(DeviceIdentity(), nonce: challenge.nonce, token: gw.token)
                let other = try signedConnectParams(DeviceIdentity(), nonce: challenge.nonce, token: gw.token)
                params.device?.signature = other.device!.signature
                return params
            }
            expectDeviceError(foreign, message: "device signature invalid", code: "DEVICE_AUTH_SIGNATURE_INVALID")
            // Garbage.
            let garbage = try await rawConnect(gw) { challenge in
                var params = try signedConnectParams(DeviceIdentity(), nonce: challenge.nonce, token: gw.token)
                params.device?.signature = "not-a-signature"
                return params
            }
            expectDeviceError(garbage, message: "device signature invalid", code: "DEVICE_AUTH_SIGNATURE_INVALID")
        }
    }

    @Test func staleSignature() async throws {
        try await withGateway { gw in
            let now = Int(Date().timeIntervalSince1970 * 1000)
            let stale = try await rawConnect(gw) { challenge in
                try signedConnectParams(DeviceIdentity(), nonce: challenge.nonce, token: gw.token, signedAt: now - 121_000)
            }
            expectDeviceError(stale, message: "device signature expired", code: "DEVICE_AUTH_SIGNATURE_EXPIRED")
            let future = try await rawConnect(gw) { challenge in
                try signedConnectParams(DeviceIdentity(), nonce: challenge.nonce, token: gw.token, signedAt: now + 180_000)
            }
            expectDeviceError(future, message: "device signature expired", code: "DEVICE_AUTH_SIGNATURE_EXPIRED")
            // Inside the window is fine (a minute of clock skew).
            let skewed = try await rawConnect(gw) { challenge in
                try signedConnectParams(DeviceIdentity(), nonce: challenge.nonce, token: gw.token, signedAt: now - 60_000)
            }
            #expect(skewed.0.ok)
        }
    }

    @Test func wrongOrMissingNonce() async throws {
        try await withGateway { gw in
            let wrong = try await rawConnect(gw) { challenge in
                // Correctly signed, but for another socket's nonce.
                try signedConnectParams(DeviceIdentity(), nonce: UUID().uuidString.lowercased(), token: gw.token)
            }
            expectDeviceError(wrong, message: "device nonce mismatch", code: "DEVICE_AUTH_NONCE_MISMATCH")
            let missing = try await rawConnect(gw) { challenge in
                var params = try signedConnectParams(DeviceIdentity(), nonce: "", token: gw.token)
                params.device?.nonce = nil
                return params
            }
            expectDeviceError(missing, message: "device nonce required", code: "DEVICE_AUTH_NONCE_REQUIRED")
        }
    }

    @Test func deviceIdMustMatchKey() async throws {
        try await withGateway { gw in
            let mismatch = try await rawConnect(gw) { challenge in
                var params = try signedConnectParams(DeviceIdentity(), nonce: challenge.nonce, token: gw.token)
                params.device?.id = DeviceIdentity().deviceId
                return params
            }
            expectDeviceError(mismatch, message: "device identity mismatch", code: "DEVICE_AUTH_DEVICE_ID_MISMATCH")
            let badKey = try await rawConnect(gw) { challenge in
                var params = try signedConnectParams(DeviceIdentity(), nonce: challenge.nonce, token: gw.token)
                params.device?.publicKey = "AAAA"
                return params
            }
            expectDeviceError(badKey, message: "device public key invalid", code: "DEVICE_AUTH_PUBLIC_KEY_INVALID")
        }
    }

    @Test func upperCaseDeviceIdIsTheSameDevice() async throws {
        try await withGateway { gw in
            let identity = DeviceIdentity()
            let (response, _, _) = try await rawConnect(gw) { challenge in
                let client = ClientInfo(id: "cli", version: "1", platform: "linux", mode: "cli")
                let upper = identity.deviceId.uppercased()
                let proof = try identity.proof(
                    .v3,
                    fields: .init(
                        deviceId: upper, clientId: "cli", clientMode: "cli", role: "operator", scopes: [OperatorScope.read],
                        signedAtMs: Int(Date().timeIntervalSince1970 * 1000), token: gw.token, nonce: challenge.nonce,
                        platform: "linux", deviceFamily: nil
                    )
                )
                return ConnectParams(client: client, role: "operator", scopes: [OperatorScope.read], device: proof, auth: ConnectAuth(token: gw.token))
            }
            #expect(response.ok, "\(String(describing: response.error))")
        }
    }
}
