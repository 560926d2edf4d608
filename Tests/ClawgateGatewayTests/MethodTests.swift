import ClawgateClient
import ClawgateGateway
import ClawgateProtocol
import Foundation
import Testing

@Suite("Methods and scopes")
struct MethodTests {
    @Test func readOnlyDevice() async throws {
        try await withGateway { gw in
            try await connect(gw.options(scopes: [OperatorScope.read], device: DeviceIdentity())) { conn in
                #expect(conn.hello.auth?.scopes == [OperatorScope.read])
                let health = try await conn.call("health")
                #expect(health["ok"] == true)
                let status = try await conn.call("status", params: nil)["gateway"]
                #expect(status?["ok"] == true)
                #expect(status?["port"]?.intValue == gw.port)
                #expect(status?["protocol"]?["min"] == 3)
                #expect(status?["protocol"]?["max"] == 4)
                // Not an admin: no paths.
                #expect(status?["stateDir"] == nil)
                _ = try await conn.call("system-presence")
                _ = try await conn.call("logs.tail")

                let pairing = try await expectCallFails(conn, "device.pair.list")
                #expect(pairing.code == "FORBIDDEN")
                #expect(pairing.message == "missing scope: operator.pairing")
                #expect(pairing.detailCode == "MISSING_SCOPE")
                #expect(pairing.details?["missingScope"] == "operator.pairing")

                let config = try await expectCallFails(conn, "config.get")
                #expect(config.code == "FORBIDDEN")
                #expect(config.message == "missing scope: operator.admin")
                #expect(config.details?["missingScope"] == "operator.admin")

                // An unknown method is not revealed to a non-admin: it needs admin first.
                let unknown = try await expectCallFails(conn, "foo.bar")
                #expect(unknown.message == "missing scope: operator.admin")
                // Node methods are refused by role.
                let node = try await expectCallFails(conn, "node.event")
                #expect(node == ErrorShape(code: "INVALID_REQUEST", message: "unauthorized role: operator"))
            }
        }
    }

    @Test func writeImpliesRead() async throws {
        try await withGateway { gw in
            try await connect(gw.options(scopes: [OperatorScope.write], device: DeviceIdentity())) { conn in
                let observed = try await conn.call("health")["ok"]
                #expect(observed == true)
            }
        }
    }

    @Test func adminStatusShowsPathsAndConnections() async throws {
        try await withGateway { gw in
            try await connect(gw.adminOptions()) { conn in
                let status = try await conn.call("status")
                // The reference gateway's top-level shape...
                #expect(status["sessions"]?["count"] == 0)
                #expect(status["heartbeat"]?["defaultAgentId"] == "main")
                #expect(status["channelSummary"] == [])
                #expect(status["queuedSystemEvents"] == [])
                // ...and Clawgate's own figures under `gateway`.
                let gateway = try #require(status["gateway"])
                #expect(gateway["stateDir"] == .string(gw.stateDir))
                #expect(gateway["authMode"] == "token")
                #expect(gateway["bind"] == "custom")
                #expect(gateway["connections"]?["total"] == 1)
                #expect(gateway["connections"]?["operators"] == 1)
                #expect(gateway["pairing"]?["paired"] == 1)
            }
        }
    }

    @Test func unknownMethodForAdmin() async throws {
        try await withGateway { gw in
            try await connect(gw.adminOptions()) { conn in
                let error = try await expectCallFails(conn, "foo.bar")
                #expect(error == ErrorShape(code: "INVALID_REQUEST", message: "unknown method: foo.bar"))
                // connect after the handshake is an error too, and not fatal.
                let again = try await expectCallFails(conn, "connect", params: [:])
                #expect(again == ErrorShape(code: "INVALID_REQUEST", message: "connect is only valid as the first frame"))
                let observed = try await conn.call("health")["ok"]
                #expect(observed == true)
            }
        }
    }

    @Test func malformedFramesAfterHandshakeAreAnsweredNotFatal() async throws {
        try await withGateway { gw in
            try await connect(gw.adminOptions()) { conn in
                let missingMethod = try await conn.sendRaw(#"{"type":"req","id":"x"}"#, expectingResponseId: "x")
                #expect(missingMethod.ok == false)
                #expect(missingMethod.error?.code == "INVALID_REQUEST")
                #expect(missingMethod.error?.message == "invalid request frame: missing required property 'method'")

                let extra = try await conn.sendRaw(#"{"type":"req","id":"y","method":"health","bogus":true}"#, expectingResponseId: "y")
                #expect(extra.error?.message == "invalid request frame: unexpected property 'bogus'")

                // Without a readable id the response uses "invalid".
                let noId = try await conn.sendRaw(#"{"type":"req","method":"health"}"#, expectingResponseId: "invalid")
                #expect(noId.error?.message == "invalid request frame: missing required property 'id'")

                // Unparsable JSON is ignored; the next call still works.
                try await conn.sendRaw("{this is not json")
                try await conn.sendRaw(#"{"type":"cancel","id":"nothing"}"#)
                try await conn.sendRaw(#"{"type":"future-frame"}"#)
                let observed = try await conn.call("health")["ok"]
                #expect(observed == true)
            }
        }
    }

    @Test func unknownParamsAreRejected() async throws {
        try await withGateway { gw in
            try await connect(gw.adminOptions()) { conn in
                let error = try await expectCallFails(conn, "health", params: ["bogus": 1])
                #expect(error == ErrorShape(code: "INVALID_REQUEST", message: "invalid health params: unexpected property 'bogus'"))
                let typed = try await expectCallFails(conn, "health", params: ["probe": "yes"])
                #expect(typed.code == "INVALID_REQUEST")
                #expect(typed.message == "invalid health params: probe: expected a boolean")
                let notObject = try await expectCallFails(conn, "status", params: [1])
                #expect(notObject.message == "invalid status params: expected an object, got array")
                let missing = try await expectCallFails(conn, "device.pair.approve", params: [:])
                #expect(missing.message == "invalid device.pair.approve params: missing required property 'requestId'")
                let badLimit = try await expectCallFails(conn, "logs.tail", params: ["limit": 0])
                #expect(badLimit.message == "invalid logs.tail params: limit must be between 1 and 5000")
                // Valid params work.
                #expect(try await conn.call("health", params: ["probe": true])["ok"] == true)
                let observed = try await conn.call("status", params: [:])["gateway"]?["ok"]
                #expect(observed == true)
            }
        }
    }

    @Test func healthProbeBumpsTheHealthVersionAndBroadcasts() async throws {
        try await withGateway { gw in
            try await connect(gw.adminOptions()) { conn in
                let before = conn.hello.snapshot.stateVersion.health
                try await conn.call("health", params: ["probe": true])
                let event = try await waitForEvent(conn, "health")
                #expect(event.payload?["ok"] == true)
                #expect((event.stateVersion?.health ?? 0) > before)
            }
        }
    }
}
