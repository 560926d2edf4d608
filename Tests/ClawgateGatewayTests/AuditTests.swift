import AsyncHTTPClient
import ClawgateClient
import ClawgateGateway
import ClawgateProtocol
import ClawgateSupport
import Foundation
import Testing

/// The audit log as a real gateway writes it: `<stateDir>/logs/audit.jsonl`.
func auditRecords(stateDir: String) throws -> [JSONValue] {
    let path = GatewayPaths(stateDir: stateDir).auditFile
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return try text.split(separator: "\n").map { try JSONCoding.decode(JSONValue.self, from: Data($0.utf8)) }
}

@Suite("Audit log")
struct AuditTests {
    @Test func authPairingAdminAndMeshDecisionsAreAuditedWithoutSecrets() async throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let stateDir = (dir as NSString).appendingPathComponent("state")
        let logPath = (dir as NSString).appendingPathComponent("gateway.log")
        let realToken = "REAL-audit-token-3c9e1f"
        let wrongToken = "WRONG-audit-token-77aa02"
        let admin = DeviceIdentity()
        let phone = DeviceIdentity()
        let secrets = try await withGateway(
            { config, _ in config.logging.file = logPath }, token: realToken, logLevel: "debug", logger: try fileLogger(path: logPath),
            stateDir: stateDir
        ) { (gw: TestGateway) async throws -> [String] in
            // A failed login (wrong shared token) and one without any token.
            #expect(try await expectRejected(gw.options(token: wrongToken)).error.detailCode == "AUTH_TOKEN_MISMATCH")
            // A successful login of a loopback device (auto-approved), which approves a remote
            // device's pairing and calls an admin method.
            let adminToken = try await connect(gw.options(device: admin)) { conn -> String in
                let requestId = try await expectPairingRequired(remoteOptions(gw, identity: phone))
                _ = try await conn.call("device.pair.approve", PairingDecisionParams(requestId: requestId), as: PairingResolved.self)
                let reset = try await conn.request("sessions.reset", params: ["key": "main"])
                #expect(reset.ok)
                return try #require(conn.hello.auth?.deviceToken)
            }
            let phoneToken = try await connect(remoteOptions(gw, identity: phone)) { conn in
                try #require(conn.hello.auth?.deviceToken)
            }
            // A read-scope client calling an admin method is refused (and audited).
            try await connect(gw.options(scopes: [OperatorScope.read], device: DeviceIdentity())) { reader in
                let denied = try await reader.request("sessions.reset", params: ["key": "main"])
                #expect(denied.ok == false)
            }
            // A mesh authorization denial: taking over a registered agent id without its credential.
            let credential = try await connect(MeshRPCTests.agentOptions(gw)) { try await MeshRPCTests.register($0, "worker") }
            try await connect(MeshRPCTests.agentOptions(gw)) { impostor in
                let response = try await impostor.request("mesh.register", params: ["agentId": "worker"])
                #expect(response.error?.code == "FORBIDDEN")
            }
            // HTTP bearer auth: a wrong and a right secret on the ClawLink API.
            let wrong = try await OpenAIHTTPTests.send(gw.httpBase + "/discover", method: .GET, token: wrongToken)
            #expect(wrong.status == 401)
            let right = try await OpenAIHTTPTests.send(gw.httpBase + "/discover", method: .GET, token: realToken)
            #expect(right.status == 200)
            return [realToken, wrongToken, adminToken, phoneToken, credential]
        }

        let records = try auditRecords(stateDir: stateDir)
        func find(_ event: String, _ predicate: (JSONValue) -> Bool = { _ in true }) -> [JSONValue] {
            records.filter { $0["event"]?.stringValue == event && predicate($0) }
        }
        // Every line is a timestamped event.
        #expect(records.allSatisfy { $0["ts"]?.stringValue?.hasSuffix("Z") == true && $0["tsMs"]?.intValue != nil })

        let failed = find("auth.failure") { $0["surface"] == "ws" && $0["reason"] == "AUTH_TOKEN_MISMATCH" }
        #expect(failed.count == 1)
        #expect(failed.first?["remote"] == "127.0.0.1")
        #expect(failed.first?["clientId"] == "cli")

        let adminLogin = find("auth.success") { $0["deviceId"] == .string(admin.deviceId) }
        #expect(adminLogin.first?["surface"] == "ws")
        #expect(adminLogin.first?["credential"] == "token")
        #expect(adminLogin.first?["remote"] == "127.0.0.1")
        #expect(adminLogin.first?["scopes"]?.arrayValue?.contains("operator.admin") == true)

        let autoApproved = find("pairing.decision") { $0["deviceId"] == .string(admin.deviceId) }
        #expect(autoApproved.first?["decision"] == "approved")
        #expect(autoApproved.first?["by"] == "auto:loopback")

        #expect(find("pairing.request") { $0["deviceId"] == .string(phone.deviceId) }.count == 1)
        let approved = find("pairing.decision") { $0["deviceId"] == .string(phone.deviceId) }
        #expect(approved.count == 1)
        #expect(approved.first?["decision"] == "approved")
        #expect(approved.first?["by"] == .string("operator:\(admin.deviceId)"))
        #expect(approved.first?["requestId"]?.stringValue?.isEmpty == false)
        // The phone's login through the X-Forwarded-For of an untrusted proxy is not loopback.
        let pairingRequired = find("auth.failure") { $0["reason"] == "PAIRING_REQUIRED" && $0["deviceId"] == .string(phone.deviceId) }
        #expect(!pairingRequired.isEmpty)

        let adminCalls = find("admin.rpc") { $0["method"] == "sessions.reset" }
        #expect(adminCalls.count == 2)
        #expect(adminCalls.first?["outcome"] == "ok")
        #expect(adminCalls.first?["deviceId"] == .string(admin.deviceId))
        #expect(adminCalls.last?["outcome"] == "denied")
        #expect(adminCalls.allSatisfy { $0["params"] == nil && $0["key"] == nil })

        let denied = find("mesh.denied")
        #expect(denied.count == 1)
        #expect(denied.first?["operation"] == "mesh.register")
        #expect(denied.first?["surface"] == "ws")

        #expect(find("auth.failure") { $0["surface"] == "clawlink" && $0["reason"] == "AUTH_TOKEN_MISMATCH" }.count == 1)
        #expect(find("auth.success") { $0["surface"] == "clawlink" }.count == 1)

        // No secret in the audit log or the gateway log (which ran at debug level).
        let audit = try String(contentsOfFile: GatewayPaths(stateDir: stateDir).auditFile, encoding: .utf8)
        let log = try String(contentsOfFile: logPath, encoding: .utf8)
        #expect(log.contains("connect rejected"))
        for secret in secrets {
            #expect(!audit.contains(secret), "audit log contains a secret")
            #expect(!log.contains(secret), "gateway log contains a secret")
        }
        // Owner-only, like every other secret-adjacent file.
        let mode = try FileManager.default.attributesOfItem(atPath: GatewayPaths(stateDir: stateDir).auditFile)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func auditTailFiltersAcrossRotatedFilesThroughTheCLI() async throws {
        let dir = try CLIProcessTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let paths = GatewayPaths(stateDir: dir)
        // Two generations written through the real rotating writer: the oldest lines rotate out
        // of the live file into audit.jsonl.1.
        let log = try AuditLog(path: paths.auditFile, maxBytes: 1024, generations: 3)
        for index in 0..<12 {
            log.record(AuditLog.Event.authFailure, ["surface": "ws", "remote": "127.0.0.1", "reason": .string("R\(index)")])
            log.record(AuditLog.Event.authSuccess, ["surface": "ws", "remote": "127.0.0.1", "credential": "token"])
        }
        #expect(FileManager.default.fileExists(atPath: paths.auditFile + ".1"))
        let environment = CLIProcessTests.environment(stateDir: dir)

        let tail = try await CLIProcessTests.run(["audit", "tail", "--event", "auth.failure", "--lines", "3"], environment: environment)
        #expect(tail.status == 0, "stderr: \(tail.stderr)")
        let lines = tail.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.allSatisfy { $0.contains(" auth.failure ") && $0.contains("remote=127.0.0.1") })
        #expect(lines.last?.hasSuffix("surface=ws") == true)
        #expect(lines.map { $0.contains("reason=R9 ") || $0.contains("reason=R10 ") || $0.contains("reason=R11 ") } == [true, true, true])

        // Everything, oldest first, across generations; raw JSON lines with --json.
        let all = try await CLIProcessTests.run(["audit", "tail", "--event", "auth", "--lines", "100", "--json"], environment: environment)
        #expect(all.status == 0)
        let records = try all.stdout.split(separator: "\n").map { try JSONCoding.decode(JSONValue.self, from: Data($0.utf8)) }
        let reasons = records.compactMap { $0["reason"]?.stringValue }
        // Rotation keeps 3 generations of 1 KiB: the newest failures survive, in order.
        #expect(reasons.last == "R11")
        #expect(reasons == reasons.sorted { Int($0.dropFirst()) ?? 0 < Int($1.dropFirst()) ?? 0 })
        #expect(records.count > 4)

        let bad = try await CLIProcessTests.run(["audit", "tail", "--lines=-1"], environment: environment)
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--lines must be 0 or more"))

        let empty = try CLIProcessTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let missing = try await CLIProcessTests.run(["audit", "tail"], environment: CLIProcessTests.environment(stateDir: empty))
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no audit log at \(empty)/logs/audit.jsonl"))
    }

    @Test func followerReadsAcrossRotation() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = (dir as NSString).appendingPathComponent("audit.jsonl")
        let file = try RotatingFile(path: path, maxBytes: 1024, generations: 2)
        file.appendLine("before")
        let follower = AuditFollower(path: path, fromEnd: true)
        #expect(follower.poll() == [])
        var written: [String] = []
        var seen: [String] = []
        // 60-byte lines: 1 KiB holds ~16, so 40 lines rotate twice.
        for index in 0..<40 {
            let line = "line-\(index)-" + String(repeating: "x", count: 50)
            written.append(line)
            file.appendLine(line)
            if index % 7 == 0 { seen += follower.poll() }
        }
        seen += follower.poll()
        #expect(FileManager.default.fileExists(atPath: path + ".2"))
        #expect(seen == written)
    }
}
