import ClawgateProtocol
import Foundation

/// Reads a JSON5 config file strictly: unknown keys and bad values are errors naming the key
/// path and the file, never a crash and never silently ignored.
public enum ConfigParser {
    /// Loads the file at `path`; a missing file is an empty config (zero-configuration start).
    public static func load(path: String) throws(ConfigError) -> GatewayConfig {
        guard FileManager.default.fileExists(atPath: path) else { return GatewayConfig() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, keyPath: "", message: "cannot read the file (check its permissions)")
        }
        return try parse(data: data, file: path)
    }

    public static func parse(data: Data, file: String) throws(ConfigError) -> GatewayConfig {
        try parse(tree: try parseTree(data: data, file: file), file: file)
    }

    /// The JSON5 text as a JSON tree, without checking keys (an empty file is `{}`).
    public static func parseTree(data: Data, file: String) throws(ConfigError) -> JSONValue {
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return .object([:]) }
        let decoder = JSONDecoder()
        decoder.allowsJSON5 = true
        do {
            return try decoder.decode(JSONValue.self, from: data)
        } catch {
            throw ConfigError(file: file, keyPath: "", message: "not valid JSON5: \(describeSyntax(error))")
        }
    }

    /// Checks a JSON tree strictly and reads it into a `GatewayConfig`.
    public static func parse(tree: JSONValue, file: String) throws(ConfigError) -> GatewayConfig {
        var reader = Reader(file: file)
        return try reader.config(tree)
    }

    static func describeSyntax(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            if let underlying = context.underlyingError { return String(describing: underlying) }
            return context.debugDescription
        }
        return String(describing: error)
    }

    /// Walks the JSON tree keeping the current key path for error messages.
    struct Reader {
        let file: String

        func fail(_ path: String, _ message: String) -> ConfigError {
            ConfigError(file: file, keyPath: path, message: message)
        }

        /// `allowed: nil` accepts any key (maps keyed by user-chosen names).
        func object(_ value: JSONValue?, _ path: String, allowed: Set<String>?) throws(ConfigError) -> [String: JSONValue] {
            guard let value, !value.isNull else { return [:] }
            guard case .object(let object) = value else {
                throw fail(path, "expected an object, got \(value.typeName)")
            }
            if let allowed, let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
                let known = allowed.sorted().joined(separator: ", ")
                throw fail(path.isEmpty ? unknown : "\(path).\(unknown)", "unknown key (known keys here: \(known))")
            }
            return object
        }

        func string(_ value: JSONValue?, _ path: String) throws(ConfigError) -> String? {
            guard let value, !value.isNull else { return nil }
            guard case .string(let string) = value else { throw fail(path, "expected a string, got \(value.typeName)") }
            return string
        }

        func nonEmptyString(_ value: JSONValue?, _ path: String) throws(ConfigError) -> String? {
            guard let string = try string(value, path) else { return nil }
            guard !string.trimmingCharacters(in: .whitespaces).isEmpty else { throw fail(path, "must not be empty") }
            return string
        }

        func bool(_ value: JSONValue?, _ path: String) throws(ConfigError) -> Bool? {
            guard let value, !value.isNull else { return nil }
            guard case .bool(let bool) = value else { throw fail(path, "expected true or false, got \(value.typeName)") }
            return bool
        }

        func int(_ value: JSONValue?, _ path: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int? {
            guard let value, !value.isNull else { return nil }
            guard let int = value.intValue, range.contains(int) else {
                throw fail(path, "expected an integer from \(range.lowerBound) to \(range.upperBound), got \(render(value))")
            }
            return int
        }

        func stringArray(_ value: JSONValue?, _ path: String) throws(ConfigError) -> [String] {
            guard let value, !value.isNull else { return [] }
            guard case .array(let items) = value else { throw fail(path, "expected an array of strings, got \(value.typeName)") }
            var result: [String] = []
            for (index, item) in items.enumerated() {
                guard case .string(let string) = item else {
                    throw fail("\(path)[\(index)]", "expected a string, got \(item.typeName)")
                }
                result.append(string)
            }
            return result
        }

        func oneOf<T: RawRepresentable<String>>(_ value: JSONValue?, _ path: String, _ type: T.Type, allowed: [T]) throws(ConfigError) -> T? {
            guard let string = try string(value, path) else { return nil }
            guard let parsed = T(rawValue: string) else {
                throw fail(path, "expected one of \(allowed.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), got \"\(string)\"")
            }
            return parsed
        }

        func render(_ value: JSONValue) -> String {
            switch value {
            case .string(let string): "\"\(string)\""
            case .int(let int): String(int)
            case .double(let double): String(double)
            case .bool(let bool): String(bool)
            default: value.typeName
            }
        }

        mutating func config(_ root: JSONValue) throws(ConfigError) -> GatewayConfig {
            guard case .object = root else { throw fail("", "the top level must be an object, got \(root.typeName)") }
            let top = try object(
                root, "", allowed: ["gateway", "logging", "mesh", "models", "agents", "session", "hooks", "$schema"]
            )
            var config = GatewayConfig()
            config.gateway = try gateway(top["gateway"])
            let logging = try object(top["logging"], "logging", allowed: ["level", "file"])
            config.logging.level = try string(logging["level"], "logging.level")
            if let level = config.logging.level, GatewayLogLevel(rawValue: level) == nil {
                throw fail("logging.level", "expected one of \(GatewayLogLevel.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(level)\"")
            }
            config.logging.file = try nonEmptyString(logging["file"], "logging.file")
            config.mesh = try mesh(top["mesh"])
            let gatewayObject = try object(top["gateway"], "gateway", allowed: nil)
            config.agents = try agentsConfig(top: top, gateway: gatewayObject)
            return config
        }

        func gateway(_ value: JSONValue?) throws(ConfigError) -> GatewayConfig.Gateway {
            let g = try object(
                value, "gateway",
                allowed: [
                    "mode", "port", "bind", "customBindHost", "auth", "trustedProxies", "controlUi", "reload", "remote",
                    "nodes", "limits", "http", "tools", "metrics",
                ]
            )
            var result = GatewayConfig.Gateway()
            result.mode = try string(g["mode"], "gateway.mode")
            if let mode = result.mode, mode != "local", mode != "remote" {
                throw fail("gateway.mode", "expected \"local\" or \"remote\", got \"\(mode)\"")
            }
            result.port = try int(g["port"], "gateway.port", in: 1...65535)
            if let bind = try string(g["bind"], "gateway.bind") {
                guard let mode = BindMode(rawValue: bind) else {
                    let hint = ["tailnet", "auto"].contains(bind) ? " (\"\(bind)\" is not supported by Clawgate)" : ""
                    throw fail("gateway.bind", "expected one of \"loopback\", \"lan\", \"custom\", got \"\(bind)\"\(hint)")
                }
                result.bind = mode
            }
            result.customBindHost = try nonEmptyString(g["customBindHost"], "gateway.customBindHost")
            if result.bind == .custom && result.customBindHost == nil {
                throw fail("gateway.customBindHost", "required when gateway.bind is \"custom\"")
            }
            result.auth = try auth(g["auth"])
            result.trustedProxies = try stringArray(g["trustedProxies"], "gateway.trustedProxies")
            for (index, proxy) in result.trustedProxies.enumerated() where ClientAddress(ip: proxy) == nil {
                throw fail("gateway.trustedProxies[\(index)]", "not an IP address: \"\(proxy)\"")
            }
            let ui = try object(g["controlUi"], "gateway.controlUi", allowed: ["enabled", "allowedOrigins"])
            result.controlUi.enabled = try bool(ui["enabled"], "gateway.controlUi.enabled")
            result.controlUi.allowedOrigins = try stringArray(ui["allowedOrigins"], "gateway.controlUi.allowedOrigins")
            for (index, origin) in result.controlUi.allowedOrigins.enumerated() where OriginPolicy.normalize(origin) == nil {
                throw fail("gateway.controlUi.allowedOrigins[\(index)]", "not an origin (scheme://host[:port]): \"\(origin)\"")
            }
            let reload = try object(g["reload"], "gateway.reload", allowed: ["mode"])
            result.reloadMode = try string(reload["mode"], "gateway.reload.mode")
            if let mode = result.reloadMode, !["off", "hot", "restart", "hybrid"].contains(mode) {
                throw fail("gateway.reload.mode", "expected one of \"off\", \"hot\", \"restart\", \"hybrid\", got \"\(mode)\"")
            }
            let remote = try object(g["remote"], "gateway.remote", allowed: ["url", "token", "password"])
            result.remote.url = try nonEmptyString(remote["url"], "gateway.remote.url")
            if let url = result.remote.url, !(url.hasPrefix("ws://") || url.hasPrefix("wss://")) {
                throw fail("gateway.remote.url", "expected a ws:// or wss:// URL, got \"\(url)\"")
            }
            result.remote.token = try nonEmptyString(remote["token"], "gateway.remote.token").map(Secret.init)
            result.remote.password = try nonEmptyString(remote["password"], "gateway.remote.password").map(Secret.init)
            let nodes = try object(g["nodes"], "gateway.nodes", allowed: ["pairing"])
            let pairing = try object(nodes["pairing"], "gateway.nodes.pairing", allowed: ["autoApproveLocal"])
            result.autoApproveLocalPairing = try bool(pairing["autoApproveLocal"], "gateway.nodes.pairing.autoApproveLocal")
            result.limits = try limits(g["limits"])
            let metrics = try object(g["metrics"], "gateway.metrics", allowed: ["public"])
            result.metrics.isPublic = try bool(metrics["public"], "gateway.metrics.public")
            return result
        }

        func auth(_ value: JSONValue?) throws(ConfigError) -> GatewayConfig.Auth {
            let a = try object(value, "gateway.auth", allowed: ["mode", "token", "password", "rateLimit", "trustedProxy"])
            var result = GatewayConfig.Auth()
            result.mode = try oneOf(a["mode"], "gateway.auth.mode", AuthMode.self, allowed: AuthMode.allCases)
            result.token = try nonEmptyString(a["token"], "gateway.auth.token").map(Secret.init)
            result.password = try nonEmptyString(a["password"], "gateway.auth.password").map(Secret.init)
            if result.mode == nil && result.token != nil && result.password != nil {
                throw fail("gateway.auth.mode", "both a token and a password are set: say which one to use with gateway.auth.mode")
            }
            let r = try object(
                a["rateLimit"], "gateway.auth.rateLimit", allowed: ["maxAttempts", "windowMs", "lockoutMs", "exemptLoopback"]
            )
            result.rateLimit.maxAttempts = try int(r["maxAttempts"], "gateway.auth.rateLimit.maxAttempts", in: 1...100_000)
            result.rateLimit.windowMs = try int(r["windowMs"], "gateway.auth.rateLimit.windowMs", in: 1...86_400_000)
            result.rateLimit.lockoutMs = try int(r["lockoutMs"], "gateway.auth.rateLimit.lockoutMs", in: 0...86_400_000)
            result.rateLimit.exemptLoopback = try bool(r["exemptLoopback"], "gateway.auth.rateLimit.exemptLoopback")
            let t = try object(
                a["trustedProxy"], "gateway.auth.trustedProxy", allowed: ["userHeader", "requiredHeaders", "allowUsers"]
            )
            result.trustedProxy.userHeader = try nonEmptyString(t["userHeader"], "gateway.auth.trustedProxy.userHeader")
            result.trustedProxy.requiredHeaders = try stringArray(t["requiredHeaders"], "gateway.auth.trustedProxy.requiredHeaders")
            result.trustedProxy.allowUsers = try stringArray(t["allowUsers"], "gateway.auth.trustedProxy.allowUsers")
            return result
        }

        func mesh(_ value: JSONValue?) throws(ConfigError) -> GatewayConfig.Mesh {
            let m = try object(
                value, "mesh",
                allowed: [
                    "staleAfterMs", "expireAfterMs", "leaseMs", "maxDeliveryAttempts", "maxMessageBytes", "retentionMs",
                    "allowedNamespaces", "allowedAgents", "sweepIntervalMs",
                ]
            )
            var result = GatewayConfig.Mesh()
            if let v = try int(m["staleAfterMs"], "mesh.staleAfterMs", in: 1_000...86_400_000) { result.settings.staleAfterMs = v }
            if let v = try int(m["expireAfterMs"], "mesh.expireAfterMs", in: 1_000...31_536_000_000) { result.settings.expireAfterMs = v }
            if let v = try int(m["leaseMs"], "mesh.leaseMs", in: 100...3_600_000) { result.settings.leaseMs = v }
            if let v = try int(m["maxDeliveryAttempts"], "mesh.maxDeliveryAttempts", in: 1...1_000) { result.settings.maxDeliveryAttempts = v }
            if let v = try int(m["maxMessageBytes"], "mesh.maxMessageBytes", in: 1_024...67_108_864) { result.settings.maxMessageBytes = v }
            if let v = try int(m["retentionMs"], "mesh.retentionMs", in: 60_000...31_536_000_000) { result.settings.retentionMs = v }
            result.settings.allowedNamespaces = try stringArray(m["allowedNamespaces"], "mesh.allowedNamespaces")
            result.settings.allowedAgents = try stringArray(m["allowedAgents"], "mesh.allowedAgents")
            result.sweepIntervalMs = try int(m["sweepIntervalMs"], "mesh.sweepIntervalMs", in: 50...60_000)
            return result
        }

        func limits(_ value: JSONValue?) throws(ConfigError) -> GatewayConfig.Limits {
            let l = try object(
                value, "gateway.limits",
                allowed: [
                    "maxPayloadBytes", "maxBufferedBytes", "handshakeTimeoutMs", "tickIntervalMs", "healthRefreshMs",
                    "maxPreauthConnections", "slowConsumerTimeoutMs", "pingIntervalMs",
                ]
            )
            var result = GatewayConfig.Limits()
            result.maxPayloadBytes = try int(l["maxPayloadBytes"], "gateway.limits.maxPayloadBytes", in: 65_536...268_435_456)
            result.maxBufferedBytes = try int(l["maxBufferedBytes"], "gateway.limits.maxBufferedBytes", in: 65_536...1_073_741_824)
            result.handshakeTimeoutMs = try int(l["handshakeTimeoutMs"], "gateway.limits.handshakeTimeoutMs", in: 100...120_000)
            result.tickIntervalMs = try int(l["tickIntervalMs"], "gateway.limits.tickIntervalMs", in: 100...3_600_000)
            result.healthRefreshMs = try int(l["healthRefreshMs"], "gateway.limits.healthRefreshMs", in: 100...3_600_000)
            result.maxPreauthConnections = try int(l["maxPreauthConnections"], "gateway.limits.maxPreauthConnections", in: 1...1_000_000)
            result.slowConsumerTimeoutMs = try int(l["slowConsumerTimeoutMs"], "gateway.limits.slowConsumerTimeoutMs", in: 100...600_000)
            result.pingIntervalMs = try int(l["pingIntervalMs"], "gateway.limits.pingIntervalMs", in: 100...3_600_000)
            return result
        }
    }
}
