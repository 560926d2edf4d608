import ClawgateModels
import ClawgateProtocol
import Foundation

/// `config.schema`: a JSON Schema of exactly the keys `ConfigParser` accepts (same names, types
/// and ranges; closed objects, as the parser is strict), plus UI hints: which values are
/// secrets and which changes need a restart.
enum ConfigSchema {
    static func result() -> ConfigSchemaResult {
        ConfigSchemaResult(
            schema: schema, uiHints: uiHints, version: GatewaySettings.version,
            generatedAt: Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
        )
    }

    // MARK: building blocks

    private static func object(_ properties: [String: JSONValue], description: String? = nil) -> JSONValue {
        var schema: [String: JSONValue] = ["type": "object", "properties": .object(properties), "additionalProperties": false]
        if let description { schema["description"] = .string(description) }
        return .object(schema)
    }

    /// An object keyed by names the user picks (provider ids, header names).
    private static func map(_ values: JSONValue) -> JSONValue {
        ["type": "object", "additionalProperties": values]
    }

    private static func int(_ range: ClosedRange<Int>, _ description: String? = nil) -> JSONValue {
        var schema: [String: JSONValue] = ["type": "integer", "minimum": .int(range.lowerBound), "maximum": .int(range.upperBound)]
        if let description { schema["description"] = .string(description) }
        return .object(schema)
    }

    private static func string(_ description: String? = nil, minLength: Int? = nil) -> JSONValue {
        var schema: [String: JSONValue] = ["type": "string"]
        if let minLength { schema["minLength"] = .int(minLength) }
        if let description { schema["description"] = .string(description) }
        return .object(schema)
    }

    private static func oneOf(_ values: [String], _ description: String? = nil) -> JSONValue {
        var schema: [String: JSONValue] = ["type": "string", "enum": .array(values.map(JSONValue.string))]
        if let description { schema["description"] = .string(description) }
        return .object(schema)
    }

    private static let bool: JSONValue = ["type": "boolean"]
    private static let strings: JSONValue = ["type": "array", "items": ["type": "string"]]

    private static let modelRef: JSONValue = [
        "oneOf": [
            ["type": "string", "pattern": "^[^/]+/.+$", "description": "provider/model"],
            object(["primary": ["type": "string", "pattern": "^[^/]+/.+$"], "fallbacks": ["type": "array", "items": ["type": "string", "pattern": "^[^/]+/.+$"]]]),
        ]
    ]

    private static let toolPolicy = object(["allow": strings, "deny": strings])

    // MARK: the schema

    static let schema: JSONValue = {
        var root = object(
            [
                "$schema": string(),
                "gateway": gateway,
                "logging": object([
                    "level": oneOf(GatewayLogLevel.allCases.map(\.rawValue)),
                    "file": string("log file (default <stateDir>/logs/gateway.log)", minLength: 1),
                ]),
                "mesh": object([
                    "staleAfterMs": int(1_000...86_400_000), "expireAfterMs": int(1_000...31_536_000_000),
                    "leaseMs": int(100...3_600_000), "maxDeliveryAttempts": int(1...1_000),
                    "maxMessageBytes": int(1_024...67_108_864), "retentionMs": int(60_000...31_536_000_000),
                    "allowedNamespaces": strings, "allowedAgents": strings, "sweepIntervalMs": int(50...60_000),
                ]),
                "models": object([
                    "mode": oneOf(["merge", "replace"]),
                    "providers": map(provider),
                    "timeouts": object([
                        "connectMs": int(100...600_000), "firstTokenMs": int(100...3_600_000), "totalMs": int(100...86_400_000),
                    ]),
                    "retry": object([
                        "maxAttempts": int(1...20), "initialBackoffMs": int(0...60_000), "maxBackoffMs": int(0...600_000),
                    ]),
                ]),
                "agents": object([
                    "defaults": object([
                        "model": modelRef, "systemPrompt": string(), "tools": toolPolicy, "workspace": string(),
                        "embeddingModel": ["type": "string", "pattern": "^[^/]+/.+$"],
                    ]),
                    "list": ["type": "array", "items": agent],
                ]),
                "session": object(["mainKey": string(minLength: 1)]),
                "hooks": object([
                    "enabled": bool, "token": string(minLength: 1), "path": ["type": "string", "pattern": "^/.+"],
                    "maxBodyBytes": int(1_024...67_108_864),
                ]),
            ],
            description: "Clawgate gateway configuration (JSON5; OpenClaw key names)"
        )
        if case .object(var fields) = root {
            fields["$schema"] = "https://json-schema.org/draft/2020-12/schema"
            fields["title"] = "Clawgate config"
            root = .object(fields)
        }
        return root
    }()

    private static let gateway = object([
        "mode": oneOf(["local", "remote"]),
        "port": int(1...65535, "listening port (restart)"),
        "bind": oneOf(BindMode.allCases.map(\.rawValue), "listening addresses (restart)"),
        "customBindHost": string(minLength: 1),
        "auth": object([
            "mode": oneOf(AuthMode.allCases.map(\.rawValue), "restart"),
            "token": string(minLength: 1), "password": string(minLength: 1),
            "rateLimit": object([
                "maxAttempts": int(1...100_000), "windowMs": int(1...86_400_000), "lockoutMs": int(0...86_400_000),
                "exemptLoopback": bool,
            ]),
            "trustedProxy": object(["userHeader": string(minLength: 1), "requiredHeaders": strings, "allowUsers": strings]),
        ]),
        "trustedProxies": strings,
        "controlUi": object(["enabled": bool, "allowedOrigins": strings]),
        "reload": object(["mode": oneOf(ReloadMode.allCases.map(\.rawValue), "what a change of this file does (default hybrid)")]),
        "remote": object(["url": ["type": "string", "pattern": "^wss?://"], "token": string(minLength: 1), "password": string(minLength: 1)]),
        "nodes": object(["pairing": object(["autoApproveLocal": bool])]),
        "limits": object([
            "maxPayloadBytes": int(65_536...268_435_456), "maxBufferedBytes": int(65_536...1_073_741_824),
            "handshakeTimeoutMs": int(100...120_000), "tickIntervalMs": int(100...3_600_000), "healthRefreshMs": int(100...3_600_000),
            "maxPreauthConnections": int(1...1_000_000), "slowConsumerTimeoutMs": int(100...600_000),
            "pingIntervalMs": int(100...3_600_000),
        ]),
        "http": object([
            "endpoints": object([
                "chatCompletions": object(["enabled": bool, "maxBodyBytes": int(1_024...268_435_456)]),
                "responses": object(["enabled": bool]),
            ])
        ]),
        "tools": toolPolicy,
    ])

    private static let provider = object([
        "baseUrl": ["type": "string", "pattern": "^https?://"],
        "apiKey": [
            "oneOf": [
                string("the key, or ${ENV_NAME}", minLength: 1),
                object(["source": oneOf(["env"]), "provider": string(), "id": string(minLength: 1)]),
            ]
        ],
        "api": oneOf(ModelAPI.allCases.map(\.rawValue)),
        "headers": map(["type": "string"]),
        "authHeader": ["type": ["boolean", "string"]],
        "models": [
            "type": "array",
            "items": object([
                "id": string(minLength: 1), "name": string(), "contextWindow": int(1...100_000_000),
                "contextTokens": ["type": "integer"], "maxTokens": int(1...100_000_000), "reasoning": bool,
                "input": strings, "cost": ["type": "object"],
            ]),
        ],
    ])

    private static let agent = object([
        "id": ["type": "string", "pattern": "^[A-Za-z0-9._-]+$"], "default": bool, "name": string(), "model": modelRef,
        "systemPrompt": string(), "identity": object(["name": string(), "emoji": string(), "theme": string(), "avatar": string()]),
        "tools": toolPolicy, "workspace": string(), "agentDir": string(),
    ])

    // MARK: hints

    /// Restart-only settings, as `ReloadPlan` names them.
    static let restartPaths = [
        "gateway.port", "gateway.bind", "gateway.customBindHost", "gateway.auth.mode", "gateway.limits.maxPayloadBytes",
        "gateway.limits.maxPreauthConnections", "gateway.limits.tickIntervalMs", "gateway.limits.healthRefreshMs",
        "gateway.http.endpoints.chatCompletions.enabled", "gateway.http.endpoints.responses.enabled", "hooks.enabled", "hooks.path",
    ]

    static let uiHints: [String: JSONValue] = {
        var hints: [String: JSONValue] = [:]
        for path in restartPaths { hints[path] = ["restart": true] }
        for path in ConfigSecrets.patternDescriptions { hints[path] = ["sensitive": true] }
        hints["gateway.port"] = ["label": "Port", "group": "gateway", "restart": true]
        hints["gateway.bind"] = ["label": "Bind", "group": "gateway", "restart": true]
        hints["gateway.auth.token"] = ["label": "Gateway token", "group": "auth", "sensitive": true]
        hints["gateway.auth.password"] = ["label": "Gateway password", "group": "auth", "sensitive": true]
        hints["gateway.reload.mode"] = [
            "label": "Reload mode", "group": "gateway",
            "help": "off: not watched; hot: apply hot-safe changes, report the rest; restart: restart on every change; hybrid (default): hot when safe, restart when needed",
        ]
        hints["models.timeouts.connectMs"] = ["help": "applies from the next start of the process"]
        return hints
    }()
}
