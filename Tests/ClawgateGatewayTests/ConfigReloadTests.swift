import ClawgateClient
@testable import ClawgateGateway
import ClawgateProtocol
import Foundation
import Testing

/// Config hot reload against a real gateway watching a real file: edits are made the way
/// editors make them (write and rename), and observed over real sockets.
@Suite("Config hot reload")
struct ConfigReloadTests {
    @Test func tokenRotationAppliesWithoutRestart() async throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let logPath = (dir as NSString).appendingPathComponent("gateway.log")
        let oldToken = "OLD-rotate-token-9f1c2a"
        let newToken = "NEW-rotate-token-4be7d0"
        let stateDir = (dir as NSString).appendingPathComponent("state")
        let oldFile = "// rotated by the test\n{gateway: {auth: {mode: 'token', token: '\(oldToken)'}}}\n"
        let newFile = "{gateway: {auth: {mode: 'token', token: '\(newToken)'}}}\n"
        try await withGateway(configFile: oldFile, token: nil, logger: try fileLogger(path: logPath), stateDir: stateDir) {
            (gw: TestGateway) async throws -> Void in
            #expect(gw.token == oldToken)
            let oldHash = try fileHash(gw.configPath)
            // A local backend client keeps its read scope with the shared token.
            let backend = gw.options(token: oldToken, clientId: "gateway-client", mode: "backend", scopes: [OperatorScope.read])
            try await connect(backend) { existing in
                try writeConfigFile(newFile, to: gw.configPath)
                try await eventually("the new token is accepted") {
                    (try? await connect(gw.options(token: newToken)) { _ in true }) ?? nil
                }
                // New connections with the old token are refused...
                let refused = try await expectRejected(gw.options(token: oldToken))
                #expect(refused.error.detailCode == "AUTH_TOKEN_MISMATCH")
                // ...while the connection made with it stays up.
                let health = try await existing.call("health")
                #expect(health["ok"] == true)
            }
            // No restart: same listener, same port.
            #expect(gw.core.port == gw.port)
            #expect(gw.core.restarts.count == 0)
            let record = try #require(configAuditRecords(gw.auditPath).last)
            #expect(record["source"] == "file")
            #expect(record["changedPaths"] == ["gateway.auth.token"])
            #expect(record["applied"] == "hot")
            #expect(record["oldHash"] == .string(oldHash))
            #expect(record["newHash"] == .string(try fileHash(gw.configPath)))
            #expect(record["path"] == .string(gw.configPath))
        }
        let log = fileLines(logPath).joined(separator: "\n")
        #expect(log.contains("config change applied in place"))
        #expect(log.contains("changedPaths=gateway.auth.token"))
        expectNoSecrets([oldToken, newToken], in: [logPath, GatewayPaths(stateDir: stateDir).auditFile])
    }

    @Test func invalidEditKeepsTheOldConfigAndLogsWhy() async throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let logPath = (dir as NSString).appendingPathComponent("gateway.log")
        let stateDir = (dir as NSString).appendingPathComponent("state")
        let token = "KEEP-token-77aa01"
        let badSecret = "BADEDIT-secret-5c3e"
        try await withGateway(
            configFile: "{gateway: {auth: {token: '\(token)'}}}", token: nil, logger: try fileLogger(path: logPath), stateDir: stateDir
        ) { (gw: TestGateway) async throws -> Void in
            let goodHash = try fileHash(gw.configPath)
            // A value of the wrong type.
            try writeConfigFile("{gateway: {port: 'abc', auth: {token: '\(badSecret)'}}}", to: gw.configPath)
            let refusal = try await eventually("the refusal is logged") {
                fileLines(logPath).first { $0.contains("config change refused") }
            }
            #expect(refusal.contains("\(gw.configPath): gateway.port: expected an integer from 1 to 65535, got \"abc\""))
            #expect(refusal.contains("ERROR"))
            // The old config is still in force.
            try await connect(gw.options(token: token)) { _ in }
            #expect(try await expectRejected(gw.options(token: badSecret)).error.detailCode == "AUTH_TOKEN_MISMATCH")
            try await connect(gw.adminOptions()) { admin in
                let reload = try await admin.call("status")["gateway"]?["configReload"]
                #expect(reload?["appliedHash"] == .string(goodHash))
                #expect(reload?["lastError"]?.stringValue?.contains("gateway.port: expected an integer") == true)
                let snapshot = try await admin.call("config.get")
                #expect(snapshot["valid"] == false)
                #expect(snapshot["issues"]?[0]?["path"] == "gateway.port")
                #expect(snapshot["hash"] == .string(try fileHash(gw.configPath)))
            }
            // `/ready` names the failing reload until a good edit.
            let refused = try await waitForReadiness(gw) { status, _ in status == 503 }
            #expect(refused.json["failing"] == ["config-reload"])
            #expect(refused.json["details"]?["config-reload"]?.stringValue?.contains("gateway.port") == true)
            let audited = try String(contentsOfFile: GatewayPaths(stateDir: stateDir).auditFile, encoding: .utf8)
                .split(separator: "\n").filter { $0.contains(#""event":"config.change""#) && $0.contains(#""applied":"refused""#) }
            #expect(audited.count == 1)
            #expect(audited.first?.contains(#""oldHash":"\#(goodHash)""#) == true)
            // Not JSON5 at all.
            try writeConfigFile("{gateway: {auth: {token: '\(badSecret)'", to: gw.configPath)
            let syntax = try await eventually("the syntax error is logged") {
                fileLines(logPath).first { $0.contains("config change refused") && $0.contains("not valid JSON5") }
            }
            #expect(syntax.contains(gw.configPath))
            try await connect(gw.options(token: token)) { _ in }
            #expect(gw.core.restarts.count == 0)
            // A good edit applies again and clears the error.
            try writeConfigFile("{gateway: {auth: {token: '\(token)'}}, logging: {level: 'debug'}}", to: gw.configPath)
            let fixedHash = try fileHash(gw.configPath)
            try await eventually("the fixed file is applied") {
                await gw.core.reloader.status.appliedHash == fixedHash ? true : nil
            }
            try await connect(gw.adminOptions()) { admin in
                let reload = try await admin.call("status")["gateway"]?["configReload"]
                #expect(reload?["lastError"] == nil)
                #expect(reload?["mode"] == "hybrid")
            }
            #expect(gw.core.settings.logLevel == .debug)
            let ready = try await waitForReadiness(gw) { status, _ in status == 200 }
            #expect(ready.json["ready"] == true)
        }
        expectNoSecrets([token, badSecret], in: [logPath, GatewayPaths(stateDir: stateDir).auditFile])
    }

    @Test func portChangeRestartsInProcessInHybridMode() async throws {
        let (first, second) = try twoFreePorts()
        try await withGateway(configFile: "{gateway: {port: \(first)}}", port: nil) { (gw: TestGateway) async throws -> Void in
            #expect(gw.port == first)
            let admin = gw.adminOptions()
            let (changed, shutdown) = try await connect(admin) { conn in
                try writeConfigFile("{gateway: {port: \(second)}}", to: gw.configPath)
                let changed = try await waitForEvent(conn, "config.changed", timeout: .seconds(10))
                let shutdown = try await waitForEvent(conn, "shutdown", timeout: .seconds(10))
                return (changed, shutdown)
            }
            #expect(changed.payload?["changedPaths"] == ["gateway.port"])
            #expect(changed.payload?["applied"] == "restart")
            #expect(changed.payload?["restart"]?["paths"] == ["gateway.port"])
            #expect(changed.payload?["restart"]?["scheduled"] == true)
            #expect(shutdown.payload?["restartExpectedMs"] == .int(ListenerRestarts.expectedDowntimeMs))
            #expect(shutdown.payload?["reason"]?.stringValue?.contains("gateway.port") == true)
            try await eventually("listening on the new port") { gw.core.port == second ? true : nil }
            // The new port answers, in the same process, with the same state (the device stays paired).
            var moved = admin
            moved.url = "ws://127.0.0.1:\(second)"
            try await connect(moved) { conn in
                let status = try await conn.call("status")
                #expect(status["gateway"]?["port"] == .int(second))
                #expect(status["gateway"]?["configReload"]?["pendingRestart"] == [])
            }
            // The old one does not.
            do {
                try await connect(gw.options()) { _ in }
                Issue.record("the old port still answers")
            } catch GatewayClientError.unreachable {
            }
            #expect(gw.core.restarts.count == 1)
            let record = try #require(configAuditRecords(gw.auditPath).last)
            #expect(record["applied"] == "restart")
            #expect(record["restartPaths"] == ["gateway.port"])
        }
    }

    @Test func authModeChangeRestartsOnTheSameEphemeralPort() async throws {
        let token = "MODE-token-19ac"
        let password = "MODE-password-e55b"
        try await withGateway(configFile: "{gateway: {auth: {mode: 'token', token: '\(token)'}}}", token: nil) {
            (gw: TestGateway) async throws -> Void in
            try await connect(gw.adminOptions()) { admin in
                let hash = try await admin.call("config.get")["hash"]
                let result = try await admin.call(
                    "config.patch",
                    params: ["raw": .string("{gateway: {auth: {mode: 'password', password: '\(password)'}}}"), "baseHash": hash ?? .null]
                )
                #expect(result["applied"] == "restart")
                #expect(result["restart"]?["paths"] == ["gateway.auth.mode"])
                _ = try await waitForEvent(admin, "shutdown", timeout: .seconds(10))
            }
            try await eventually("restarted") { gw.core.restarts.count == 1 && gw.core.isReady ? true : nil }
            // `--port 0` keeps the port it got: clients find the gateway where it was.
            #expect(gw.core.port == gw.port)
            var withPassword = gw.options()
            withPassword.token = nil
            withPassword.password = password
            try await connect(withPassword) { conn in
                #expect(conn.helloPayload["snapshot"]?["authMode"] == "password")
            }
            #expect(try await expectRejected(gw.options(token: token)).error.detailCode == "AUTH_PASSWORD_MISSING")
        }
    }

    @Test func aRestartOntoATakenPortFallsBackToTheOldListeners() async throws {
        let first = try freePort()
        let taken = try occupyPort()
        defer { close(taken.fd) }
        try await withGateway(configFile: "{gateway: {port: \(first)}}", port: nil) { (gw: TestGateway) async throws -> Void in
            try writeConfigFile("{gateway: {port: \(taken.port)}, logging: {level: 'debug'}}", to: gw.configPath)
            let reload = try await eventually("the failed restart is reported") {
                let status = await gw.core.reloader.status
                return status.lastError == nil ? nil : status
            }
            #expect(reload.lastError?.contains("another gateway instance is already listening on ws://127.0.0.1:\(taken.port)") == true)
            #expect(reload.pendingRestart == ["gateway.port"])
            // Back on the old port, with the hot-safe part of the edit applied.
            try await eventually("listening on the old port again") { gw.core.isReady ? true : nil }
            #expect(gw.core.port == first)
            #expect(gw.core.settings.port == first)
            #expect(gw.core.settings.logLevel == .debug)
            try await connect(gw.adminOptions()) { admin in
                let status = try await admin.call("status")
                #expect(status["gateway"]?["port"] == .int(first))
                #expect(status["gateway"]?["configReload"]?["pendingRestart"] == ["gateway.port"])
            }
        }
    }

    @Test func hotModeOnlyReportsAPortChange() async throws {
        let (first, second) = try twoFreePorts()
        let origin = "https://ops.example.com"
        try await withGateway(configFile: "{gateway: {port: \(first), reload: {mode: 'hot'}}}", port: nil) {
            (gw: TestGateway) async throws -> Void in
            var fromOps = gw.options()
            fromOps.headers[originHeader] = origin
            #expect(try await expectRejected(fromOps).error.detailCode == "CONTROL_UI_ORIGIN_NOT_ALLOWED")
            try await connect(gw.adminOptions()) { admin in
                try writeConfigFile(
                    "{gateway: {port: \(second), reload: {mode: 'hot'}, controlUi: {allowedOrigins: ['\(origin)']}}}", to: gw.configPath
                )
                let changed = try await waitForEvent(admin, "config.changed", timeout: .seconds(10))
                #expect(changed.payload?["applied"] == "pending-restart")
                #expect(changed.payload?["changedPaths"] == ["gateway.controlUi.allowedOrigins", "gateway.port"])
                #expect(changed.payload?["restart"]?["required"] == true)
                #expect(changed.payload?["restart"]?["paths"] == ["gateway.port"])
                #expect(changed.payload?["restart"]?["scheduled"] == false)
                #expect(changed.payload?["mode"] == "hot")
                // Still the same listener; status says what waits for a restart.
                let status = try await admin.call("status")
                #expect(status["gateway"]?["port"] == .int(first))
                #expect(status["gateway"]?["configReload"]?["pendingRestart"] == ["gateway.port"])
                #expect(status["gateway"]?["configReload"]?["mode"] == "hot")
            }
            // The hot-safe part applied: the new origin is allowed now.
            try await connect(fromOps) { _ in }
            #expect(gw.core.port == first)
            #expect(gw.core.restarts.count == 0)
            let record = try #require(configAuditRecords(gw.auditPath).last)
            #expect(record["applied"] == "pending-restart")
        }
    }
}
