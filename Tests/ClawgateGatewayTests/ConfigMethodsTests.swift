import ClawgateClient
@testable import ClawgateGateway
import ClawgateProtocol
import Foundation
import Testing

/// `config.get|set|patch|apply|schema` over a real socket, on a real file.
@Suite("Config methods")
struct ConfigMethodsTests {
    static let token = "RPC-gateway-token-31d9"
    static let remoteToken = "RPC-remote-token-8a02"
    static let apiKey = "RPC-provider-key-6f4b"
    static let header = "RPC-header-value-0c7e"
    static var file: String {
        """
        // the test's gateway
        {
          gateway: {
            auth: { mode: "token", token: "\(token)" },
            remote: { token: "\(remoteToken)" },
          },
          models: {
            providers: {
              local: { baseUrl: "http://127.0.0.1:9", api: "openai-completions", apiKey: "\(apiKey)", headers: { "x-extra": "\(header)" } },
            },
          },
        }
        """
    }
    static var secrets: [String] { [token, remoteToken, apiKey, header] }

    @Test func getRedactsSecretsAndReportsTheFileHash() async throws {
        try await withGateway(configFile: Self.file, token: nil) { (gw: TestGateway) async throws -> Void in
            try await connect(gw.adminOptions()) { admin in
                let features = admin.helloPayload["features"]
                let methods = Set(features?["methods"]?.arrayValue?.compactMap(\.stringValue) ?? [])
                #expect(methods.isSuperset(of: ["config.get", "config.set", "config.patch", "config.apply", "config.schema"]))
                #expect(features?["events"]?.arrayValue?.contains("config.changed") == true)
                let snapshot = try await admin.call("config.get")
                #expect(snapshot["path"] == .string(gw.configPath))
                #expect(snapshot["exists"] == true)
                #expect(snapshot["valid"] == true)
                #expect(snapshot["issues"] == [])
                #expect(snapshot["hash"] == .string(try fileHash(gw.configPath)))
                let sentinel = JSONValue.string(ConfigRedaction.sentinel)
                #expect(snapshot["config"]?["gateway"]?["auth"]?["token"] == sentinel)
                #expect(snapshot["config"]?["gateway"]?["auth"]?["mode"] == "token")
                #expect(snapshot["config"]?["gateway"]?["remote"]?["token"] == sentinel)
                #expect(snapshot["config"]?["models"]?["providers"]?["local"]?["apiKey"] == sentinel)
                #expect(snapshot["config"]?["models"]?["providers"]?["local"]?["headers"]?["x-extra"] == sentinel)
                #expect(snapshot["parsed"] == snapshot["config"])
                let raw = try #require(snapshot["raw"]?.stringValue)
                #expect(raw.contains("// the test's gateway"))
                #expect(raw.contains(ConfigRedaction.sentinel))
                #expect(snapshot["reload"]?["mode"] == "hybrid")
                let text = String(decoding: try JSONCoding.encode(snapshot), as: UTF8.self)
                for secret in Self.secrets { #expect(!text.contains(secret), "config.get shows \(secret)") }
            }
        }
    }

    @Test func onlyAdminsMayUseConfigMethods() async throws {
        try await withGateway(configFile: Self.file, token: nil) { (gw: TestGateway) async throws -> Void in
            // A shared token without a device has no scopes.
            try await connect(gw.options()) { conn in
                for method in ["config.get", "config.schema", "config.patch"] {
                    let error = try await expectCallFails(conn, method, params: ["raw": "{}"])
                    #expect(error.message == "missing scope: operator.admin")
                }
            }
        }
    }

    @Test func writesNeedTheCurrentBaseHash() async throws {
        try await withGateway(configFile: Self.file, token: nil) { (gw: TestGateway) async throws -> Void in
            let before = try String(contentsOfFile: gw.configPath, encoding: .utf8)
            try await connect(gw.adminOptions()) { admin in
                let patch: JSONValue = ["raw": "{logging: {level: 'debug'}}"]
                for method in ["config.patch", "config.set", "config.apply"] {
                    let missing = try await expectCallFails(admin, method, params: patch)
                    #expect(missing.code == "INVALID_REQUEST")
                    #expect(missing.message == "config base hash required; re-run config.get and retry")
                    #expect(missing.detailCode == "CONFIG_BASE_HASH_REQUIRED")
                }
                let stale = try await expectCallFails(admin, "config.patch", params: ["raw": "{logging: {level: 'debug'}}", "baseHash": "0123abcd"])
                #expect(stale.message == "config changed since last load; re-run config.get and retry")
                #expect(stale.detailCode == "CONFIG_BASE_HASH_MISMATCH")
                #expect(stale.details?["hash"] == .string(try fileHash(gw.configPath)))
                let unknown = try await expectCallFails(admin, "config.patch", params: ["raw": "{}", "base": "x"])
                #expect(unknown.message == "invalid config.patch params: unexpected property 'base'")
            }
            #expect(try String(contentsOfFile: gw.configPath, encoding: .utf8) == before)
            #expect(!FileManager.default.fileExists(atPath: gw.configPath + ".bak"))
            #expect(configAuditRecords(gw.auditPath).isEmpty)
        }
    }

    @Test func patchMergesKeepsABackupAppliesAndAudits() async throws {
        try await withGateway(configFile: Self.file, token: nil) { (gw: TestGateway) async throws -> Void in
            let original = try String(contentsOfFile: gw.configPath, encoding: .utf8)
            let originalHash = try fileHash(gw.configPath)
            let origin = "https://dash.example.com"
            let (result, event) = try await connect(gw.adminOptions()) { admin in
                let hash = try await admin.call("config.get")["hash"]
                let result = try await admin.call(
                    "config.patch",
                    params: [
                        "raw": .string("{gateway: {controlUi: {allowedOrigins: ['\(origin)']}, remote: null}, logging: {level: 'debug'}}"),
                        "baseHash": hash ?? .null,
                    ]
                )
                let event = try await waitForEvent(admin, "config.changed")
                return (result, event)
            }
            #expect(result["ok"] == true)
            #expect(result["applied"] == "hot")
            #expect(result["changedPaths"] == ["gateway.controlUi.allowedOrigins", "gateway.remote.token", "logging.level"])
            #expect(result["previousHash"] == .string(originalHash))
            #expect(result["hash"] == .string(try fileHash(gw.configPath)))
            #expect(result["restart"]?["required"] == false)
            #expect(result["backupPath"] == .string(gw.configPath + ".bak"))
            #expect(result["config"]?["gateway"]?["auth"]?["token"] == .string(ConfigRedaction.sentinel))
            #expect(result["config"]?["gateway"]?["remote"] == nil)
            // The event carries the same change.
            #expect(event.payload?["hash"] == result["hash"])
            #expect(event.payload?["source"] == "config.patch")
            #expect(event.payload?["changedPaths"] == result["changedPaths"])
            // The previous file is kept, both owner-only; the secrets stay in the file itself.
            #expect(try String(contentsOfFile: gw.configPath + ".bak", encoding: .utf8) == original)
            #expect(fileMode(gw.configPath) == 0o600)
            #expect(fileMode(gw.configPath + ".bak") == 0o600)
            let written = try String(contentsOfFile: gw.configPath, encoding: .utf8)
            #expect(written.contains(Self.token))
            #expect(written.contains(Self.apiKey))
            #expect(!written.contains(ConfigRedaction.sentinel))
            #expect(!written.contains(Self.remoteToken))
            // Applied in memory: the new origin is allowed, the log level changed.
            #expect(gw.core.settings.configuredOrigins == [origin])
            #expect(gw.core.settings.logLevel == .debug)
            var fromDash = gw.options()
            fromDash.headers[originHeader] = origin
            try await connect(fromDash) { _ in }
            // One audit line with both hashes and the changed paths, and no secret.
            let record = try #require(configAuditRecords(gw.auditPath).last)
            #expect(record["source"] == "config.patch")
            #expect(record["oldHash"] == .string(originalHash))
            #expect(record["newHash"] == result["hash"])
            #expect(record["changedPaths"] == result["changedPaths"])
            #expect(record["actor"]?.stringValue?.hasPrefix("device:") == true)
            expectNoSecrets(Self.secrets, in: [gw.auditPath])
        }
    }

    @Test func redactedSecretsWrittenBackKeepTheRealOnes() async throws {
        try await withGateway(configFile: Self.file, token: nil) { (gw: TestGateway) async throws -> Void in
            try await connect(gw.adminOptions()) { admin in
                let snapshot = try await admin.call("config.get")
                let raw = try #require(snapshot["raw"]?.stringValue)
                // Change one thing in the redacted text and send it back whole.
                let edited = raw.replacingOccurrences(of: "// the test's gateway", with: "// edited through config.set")
                let result = try await admin.call("config.set", params: ["raw": .string(edited), "baseHash": snapshot["hash"] ?? .null])
                #expect(result["changedPaths"] == [])
                #expect(result["applied"] == "none")
                let written = try String(contentsOfFile: gw.configPath, encoding: .utf8)
                #expect(!written.contains(ConfigRedaction.sentinel))
                for secret in Self.secrets { #expect(written.contains(secret)) }
                // The marker where no secret is: refused, nothing written.
                let misplaced = try await expectCallFails(
                    admin, "config.patch", params: ["raw": .string("{gateway: {auth: {password: '\(ConfigRedaction.sentinel)'}}}"), "baseHash": result["hash"] ?? .null]
                )
                #expect(misplaced.message.hasPrefix("invalid config: gateway.auth.password: \(ConfigRedaction.sentinel) stands for a secret"))
                #expect(try fileHash(gw.configPath) == result["hash"]?.stringValue)
            }
            // The token is still the real one.
            try await connect(gw.options(token: Self.token)) { _ in }
        }
    }

    @Test func invalidConfigsAreRefusedWithTheKeyPath() async throws {
        try await withGateway(configFile: Self.file, token: nil) { (gw: TestGateway) async throws -> Void in
            let before = try fileHash(gw.configPath)
            try await connect(gw.adminOptions()) { admin in
                let base: JSONValue = .string(before)
                let port = try await expectCallFails(admin, "config.set", params: ["raw": "{gateway: {port: 0}}", "baseHash": base])
                #expect(port.code == "INVALID_REQUEST")
                #expect(port.message == "invalid config: \(gw.configPath): gateway.port: expected an integer from 1 to 65535, got 0")
                #expect(port.details?["issues"]?[0]?["path"] == "gateway.port")
                let unknown = try await expectCallFails(admin, "config.patch", params: ["raw": "{gateway: {bindd: 'lan'}}", "baseHash": base])
                #expect(unknown.message.hasPrefix("invalid config: \(gw.configPath): gateway.bindd: unknown key"))
                let syntax = try await expectCallFails(admin, "config.apply", params: ["raw": "{gateway: ", "baseHash": base])
                #expect(syntax.message.hasPrefix("invalid config.apply params: raw: not valid JSON5"))
                let notObject = try await expectCallFails(admin, "config.patch", params: ["raw": "[1]", "baseHash": base])
                #expect(notObject.message == "config.patch raw must be an object")
                // Cross-key rules are checked too (an agent model needs its provider).
                let provider = try await expectCallFails(
                    admin, "config.patch", params: ["raw": "{agents: {defaults: {model: 'nowhere/x'}}}", "baseHash": base]
                )
                #expect(provider.details?["issues"]?[0]?["path"] == "agents.defaults.model")
                let delay = try await expectCallFails(admin, "config.patch", params: ["raw": "{}", "baseHash": base, "restartDelayMs": -1])
                #expect(delay.message == "invalid config.patch params: restartDelayMs must be between 0 and 60000")
            }
            #expect(try fileHash(gw.configPath) == before)
            #expect(configAuditRecords(gw.auditPath).isEmpty)
        }
    }

    @Test func firstWriteNeedsNoBaseHash() async throws {
        try await withGateway { (gw: TestGateway) async throws -> Void in
            #expect(!FileManager.default.fileExists(atPath: gw.configPath))
            try await connect(gw.adminOptions()) { admin in
                let snapshot = try await admin.call("config.get")
                #expect(snapshot["exists"] == false)
                #expect(snapshot["raw"] == nil)
                let result = try await admin.call("config.patch", params: ["raw": "{mesh: {leaseMs: 5000}}"])
                #expect(result["changedPaths"] == ["mesh.leaseMs"])
                #expect(result["backupPath"] == nil)
            }
            #expect(gw.core.mesh.settings.leaseMs == 5000)
            #expect(fileMode(gw.configPath) == 0o600)
        }
    }

    @Test func agentsAndMeshSettingsApplyInPlace() async throws {
        try await withGateway(configFile: Self.file, token: nil) { (gw: TestGateway) async throws -> Void in
            try await connect(gw.adminOptions()) { admin in
                let before = try await admin.call("agents.list")["agents"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
                #expect(before == ["main"])
                let hash = try await admin.call("config.get")["hash"]
                let patch = """
                    {agents: {list: [{id: 'main', default: true}, {id: 'helper', name: 'Helper', model: 'local/m1'}]},
                     models: {providers: {local: {models: [{id: 'm1'}]}}}, mesh: {staleAfterMs: 5000},
                     gateway: {auth: {rateLimit: {maxAttempts: 3}}}}
                    """
                let result = try await admin.call("config.patch", params: ["raw": .string(patch), "baseHash": hash ?? .null])
                #expect(result["applied"] == "hot")
                let after = try await admin.call("agents.list")["agents"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
                #expect(after == ["main", "helper"])
                let models = try await admin.call("models.list")["models"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
                #expect(models == ["m1"])
            }
            #expect(gw.core.mesh.settings.staleAfterMs == 5000)
            #expect(gw.core.rateLimiter.currentPolicy.maxAttempts == 3)
            #expect(gw.core.restarts.count == 0)
        }
    }

    @Test func applyRestartsTheListenersAfterAnswering() async throws {
        let (first, second) = try twoFreePorts()
        try await withGateway(configFile: "{gateway: {port: \(first)}}", port: nil) { (gw: TestGateway) async throws -> Void in
            let raw = "// moved by config.apply\n{gateway: {port: \(second)}}\n"
            let (result, shutdown) = try await connect(gw.adminOptions()) { admin in
                let hash = try await admin.call("config.get")["hash"]
                let result = try await admin.call("config.apply", params: ["raw": .string(raw), "baseHash": hash ?? .null])
                let shutdown = try await waitForEvent(admin, "shutdown", timeout: .seconds(10))
                return (result, shutdown)
            }
            #expect(result["applied"] == "restart")
            #expect(result["restart"]?["scheduled"] == true)
            #expect(result["restart"]?["paths"] == ["gateway.port"])
            #expect(shutdown.payload?["restartExpectedMs"] == .int(ListenerRestarts.expectedDowntimeMs))
            // Written as given, comments and all.
            #expect(try String(contentsOfFile: gw.configPath, encoding: .utf8) == raw)
            try await eventually("listening on the new port") { gw.core.port == second ? true : nil }
            var moved = gw.options()
            moved.url = "ws://127.0.0.1:\(second)"
            try await connect(moved) { _ in }
        }
    }

    @Test func schemaDescribesEveryKeyAndMarksSecretsAndRestarts() async throws {
        try await withGateway { (gw: TestGateway) async throws -> Void in
            let result = try await connect(gw.adminOptions()) { try await $0.call("config.schema") }
            let schema = try #require(result["schema"])
            #expect(result["version"] == .string(GatewaySettings.version))
            let port = schema["properties"]?["gateway"]?["properties"]?["port"]
            #expect(port?["type"] == "integer")
            #expect(port?["maximum"] == 65535)
            #expect(result["uiHints"]?["gateway.auth.token"]?["sensitive"] == true)
            #expect(result["uiHints"]?["models.providers.*.apiKey"]?["sensitive"] == true)
            #expect(result["uiHints"]?["gateway.port"]?["restart"] == true)
            #expect(result["uiHints"]?["gateway.auth.mode"]?["restart"] == true)
            // Every key of a config using every section is described (strict parser, closed schema).
            let sample = try ConfigParser.parseTree(data: Data(Self.everyKey.utf8), file: "sample")
            _ = try ConfigParser.parse(tree: sample, file: "sample")
            var missing: [String] = []
            Self.walk(sample, schema: schema, path: "", missing: &missing)
            #expect(missing == [])
        }
    }

    /// A config that sets every key the parser knows.
    static let everyKey = """
        {
          $schema: "x",
          gateway: {
            mode: "local", port: 18789, bind: "custom", customBindHost: "127.0.0.1",
            auth: { mode: "token", token: "t", password: "p",
                    rateLimit: { maxAttempts: 5, windowMs: 1000, lockoutMs: 1000, exemptLoopback: true },
                    trustedProxy: { userHeader: "x-user", requiredHeaders: ["x-a"], allowUsers: ["u"] } },
            trustedProxies: ["10.0.0.1"], controlUi: { enabled: true, allowedOrigins: ["https://a.example"] },
            reload: { mode: "hot" }, remote: { url: "ws://127.0.0.1:1", token: "t", password: "p" },
            nodes: { pairing: { autoApproveLocal: false } },
            limits: { maxPayloadBytes: 100000, maxBufferedBytes: 200000, handshakeTimeoutMs: 1000, tickIntervalMs: 1000,
                      healthRefreshMs: 1000, maxPreauthConnections: 10, slowConsumerTimeoutMs: 1000 },
            http: { endpoints: { chatCompletions: { enabled: true, maxBodyBytes: 2048 }, responses: { enabled: true } } },
            tools: { allow: ["a"], deny: ["b"] },
          },
          logging: { level: "debug", file: "/tmp/x.log" },
          mesh: { staleAfterMs: 2000, expireAfterMs: 3000, leaseMs: 1000, maxDeliveryAttempts: 3, maxMessageBytes: 2048,
                  retentionMs: 60000, allowedNamespaces: ["n"], allowedAgents: ["a"], sweepIntervalMs: 100 },
          models: {
            mode: "merge",
            providers: { p: { baseUrl: "http://h", apiKey: { source: "env", provider: "default", id: "K" }, api: "anthropic-messages",
                              headers: { h: "v" }, authHeader: true,
                              models: [{ id: "m", name: "M", contextWindow: 10, contextTokens: 5, maxTokens: 5, reasoning: false,
                                         input: ["text"], cost: { input: 1 } }] } },
            timeouts: { connectMs: 1000, firstTokenMs: 1000, totalMs: 1000 },
            retry: { maxAttempts: 2, initialBackoffMs: 10, maxBackoffMs: 100 },
          },
          agents: {
            defaults: { model: { primary: "p/m", fallbacks: ["p/m"] }, systemPrompt: "s", tools: { allow: [], deny: [] },
                        workspace: "w", embeddingModel: "p/m" },
            list: [{ id: "a", default: true, name: "A", model: "p/m", systemPrompt: "s",
                     identity: { name: "n", emoji: "e", theme: "t", avatar: "a" }, tools: { deny: ["x"] }, workspace: "w", agentDir: "d" }],
          },
          session: { mainKey: "main" },
          hooks: { enabled: true, token: "h", path: "/hooks", maxBodyBytes: 2048 },
        }
        """

    /// Records every key of `value` that `schema` has no place for.
    static func walk(_ value: JSONValue, schema: JSONValue, path: String, missing: inout [String]) {
        if let options = schema["oneOf"]?.arrayValue {
            let fitting = options.first { option in
                var inner: [String] = []
                walk(value, schema: option, path: path, missing: &inner)
                return inner.isEmpty && (option["type"]?.stringValue.map { $0 == typeName(value) } ?? true)
            }
            if fitting == nil { missing.append(path) }
            return
        }
        switch value {
        case .object(let object):
            for (key, child) in object {
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                if let property = schema["properties"]?[key] {
                    walk(child, schema: property, path: childPath, missing: &missing)
                } else if let additional = schema["additionalProperties"], additional != false {
                    walk(child, schema: additional, path: childPath, missing: &missing)
                } else if schema["properties"] == nil && schema["additionalProperties"] == nil {
                    continue  // a free-form object (`cost`)
                } else {
                    missing.append(childPath)
                }
            }
        case .array(let items):
            if let itemSchema = schema["items"] {
                for (index, item) in items.enumerated() { walk(item, schema: itemSchema, path: "\(path)[\(index)]", missing: &missing) }
            }
        default:
            break
        }
    }

    static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .object: "object"
        case .array: "array"
        case .string: "string"
        case .int: "integer"
        case .double: "number"
        case .bool: "boolean"
        case .null: "null"
        }
    }
}
