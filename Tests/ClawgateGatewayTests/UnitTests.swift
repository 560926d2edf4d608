import ClawgateGateway
import ClawgateProtocol
import Foundation
import NIOCore
import Testing

@Suite("Config parser")
struct ConfigParserTests {
    let file = "/etc/clawgate/clawgate.json"

    func parse(_ text: String) throws(ConfigError) -> GatewayConfig {
        try ConfigParser.parse(data: Data(text.utf8), file: file)
    }

    func configError(_ text: String) -> ConfigError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func acceptsJSON5CommentsAndTrailingCommas() throws {
        let config = try parse(
            """
            // OpenClaw-style config
            {
              /* block comment */
              gateway: {
                port: 19001,
                bind: "custom",
                customBindHost: "127.0.0.1",
                auth: { token: 'tok', rateLimit: { maxAttempts: 3, }, },
                controlUi: { allowedOrigins: ["https://ui.example.com",], },
                limits: { handshakeTimeoutMs: 300, tickIntervalMs: 200, },
              },
              logging: { level: "debug", file: "/tmp/x.log", },
            }
            """
        )
        #expect(config.gateway.port == 19001)
        #expect(config.gateway.bind == .custom)
        #expect(config.gateway.customBindHost == "127.0.0.1")
        #expect(config.gateway.auth.token?.reveal() == "tok")
        #expect(config.gateway.auth.rateLimit.maxAttempts == 3)
        #expect(config.gateway.controlUi.allowedOrigins == ["https://ui.example.com"])
        #expect(config.gateway.limits.handshakeTimeoutMs == 300)
        #expect(config.gateway.limits.tickIntervalMs == 200)
        #expect(config.logging.level == "debug")
        #expect(config.logging.file == "/tmp/x.log")
    }

    @Test func emptyFileIsAnEmptyConfig() throws {
        #expect(try parse("") == GatewayConfig())
        #expect(try parse("  \n\t") == GatewayConfig())
        #expect(try parse("{}") == GatewayConfig())
    }

    @Test func missingFileIsAnEmptyConfig() throws {
        #expect(try ConfigParser.load(path: "/nonexistent/\(UUID().uuidString)/clawgate.json") == GatewayConfig())
    }

    @Test func unknownKeyNamesThePathAndFile() throws {
        let error = try #require(configError(#"{ gateway: { auth: { tokn: "x" } } }"#))
        #expect(error.file == file)
        #expect(error.keyPath == "gateway.auth.tokn")
        #expect(error.message.hasPrefix("unknown key"))
        #expect(error.message.contains("token"))
        #expect(error.description.hasPrefix("\(file): gateway.auth.tokn: unknown key"))

        let top = try #require(configError(#"{ gatway: {} }"#))
        #expect(top.keyPath == "gatway")
        let limits = try #require(configError(#"{ gateway: { limits: { maxPayload: 1 } } }"#))
        #expect(limits.keyPath == "gateway.limits.maxPayload")
    }

    @Test(arguments: [
        (#"{ gateway: { port: 70000 } }"#, "expected an integer from 1 to 65535, got 70000"),
        (#"{ gateway: { port: 0 } }"#, "expected an integer from 1 to 65535, got 0"),
        (#"{ gateway: { port: "abc" } }"#, #"expected an integer from 1 to 65535, got "abc""#),
        (#"{ gateway: { port: 80.5 } }"#, "expected an integer from 1 to 65535, got 80.5"),
    ])
    func badPort(text: String, message: String) throws {
        let error = try #require(configError(text))
        #expect(error.keyPath == "gateway.port")
        #expect(error.message == message)
        #expect(error.file == file)
    }

    @Test func badBind() throws {
        let error = try #require(configError(#"{ gateway: { bind: "everywhere" } }"#))
        #expect(error.keyPath == "gateway.bind")
        #expect(error.message == #"expected one of "loopback", "lan", "custom", got "everywhere""#)
        let tailnet = try #require(self.configError(#"{ gateway: { bind: "tailnet" } }"#))
        #expect(tailnet.message.contains("not supported by Clawgate"))
        let custom = try #require(self.configError(#"{ gateway: { bind: "custom" } }"#))
        #expect(custom.keyPath == "gateway.customBindHost")
    }

    @Test func otherBadValues() throws {
        #expect(configError(#"{ gateway: { trustedProxies: ["not-an-ip"] } }"#)?.keyPath == "gateway.trustedProxies[0]")
        #expect(configError(#"{ gateway: { controlUi: { allowedOrigins: ["ftp"] } } }"#)?.keyPath == "gateway.controlUi.allowedOrigins[0]")
        #expect(configError(#"{ gateway: { auth: { mode: "magic" } } }"#)?.keyPath == "gateway.auth.mode")
        #expect(configError(#"{ gateway: { auth: { token: "a", password: "b" } } }"#)?.keyPath == "gateway.auth.mode")
        #expect(configError(#"{ logging: { level: "loud" } }"#)?.keyPath == "logging.level")
        #expect(configError(#"{ gateway: "x" }"#)?.message == "expected an object, got string")
        #expect(configError(#"[1]"#)?.message == "the top level must be an object, got array")
        let syntax = try #require(configError(#"{ gateway: { port: } }"#))
        #expect(syntax.keyPath == "")
        #expect(syntax.message.hasPrefix("not valid JSON5"))
        #expect(syntax.file == file)
    }

    @Test func settingsApplyLimitsAndOverrides() throws {
        var config = GatewayConfig()
        config.gateway.port = 1234
        config.gateway.limits.maxPayloadBytes = 1_000_000
        let settings = try GatewaySettings.resolve(
            config: config, overrides: .init(port: 4321, token: Secret("t")), paths: GatewayPaths(stateDir: "/tmp/s"),
            environment: ["OPENCLAW_GATEWAY_PORT": "5555"]
        )
        #expect(settings.port == 4321)
        #expect(settings.authMode == .token)
        #expect(settings.limits.maxPayloadBytes == 1_000_000)
        #expect(settings.limits.maxBufferedBytes == 2_000_000)
        #expect(settings.limits.maxPreauthPayloadBytes == 65_536)
        #expect(settings.secretSource == .flag)
        let fromEnv = try GatewaySettings.resolve(
            config: config, paths: GatewayPaths(stateDir: "/tmp/s"), environment: ["OPENCLAW_GATEWAY_PORT": "5555"]
        )
        #expect(fromEnv.port == 5555)
        #expect(throws: GatewayStartupError.self) {
            try GatewaySettings.resolve(config: config, paths: GatewayPaths(stateDir: "/tmp/s"), environment: ["OPENCLAW_GATEWAY_PORT": "x"])
        }
        var open = GatewayConfig()
        open.gateway.bind = .lan
        open.gateway.auth.mode = AuthMode.none
        #expect(throws: GatewayStartupError.refusingToBindWithoutAuth(bind: "lan")) {
            try GatewaySettings.resolve(config: open, paths: GatewayPaths(stateDir: "/tmp/s"), environment: [:])
        }
    }
}

@Suite("Origin policy")
struct OriginPolicyTests {
    let policy = OriginPolicy(port: 18789, bind: .loopback, customHost: nil, configured: ["https://UI.example.com", "http://10.0.0.5:8080/"])

    @Test func loopbackOriginsOfThePortAreAllowed() {
        for origin in [
            "http://127.0.0.1:18789", "http://localhost:18789", "https://localhost:18789", "http://[::1]:18789",
            "HTTP://LOCALHOST:18789", "http://localhost:18789/",
        ] {
            #expect(policy.isAllowed(origin), "\(origin)")
        }
    }

    @Test func configuredOriginsAreNormalised() {
        #expect(policy.isAllowed("https://ui.example.com"))
        #expect(policy.isAllowed("https://ui.example.com:443"))
        #expect(policy.isAllowed("http://10.0.0.5:8080"))
        #expect(!policy.isAllowed("http://ui.example.com"))
    }

    @Test func everythingElseIsRefused() {
        for origin in [
            "http://evil.example", "http://127.0.0.1:18790", "http://localhost", "null", "", "file://", "http://localhost:18789/app",
            "http://localhost.evil.example:18789", "http://127.0.0.1:18789?x=1",
        ] {
            #expect(!policy.isAllowed(origin), "\(origin)")
        }
    }

    @Test func customBindHostIsAllowed() {
        let custom = OriginPolicy(port: 9000, bind: .custom, customHost: "192.168.1.20", configured: [])
        #expect(custom.isAllowed("http://192.168.1.20:9000"))
        let v6 = OriginPolicy(port: 9000, bind: .custom, customHost: "fd00::1", configured: [])
        #expect(v6.isAllowed("http://[fd00::1]:9000"))
        #expect(!OriginPolicy(port: 9000, bind: .loopback, customHost: "192.168.1.20", configured: []).isAllowed("http://192.168.1.20:9000"))
    }

    @Test func normalize() {
        #expect(OriginPolicy.normalize("HTTPS://Example.COM") == "https://example.com:443")
        #expect(OriginPolicy.normalize("http://example.com") == "http://example.com:80")
        #expect(OriginPolicy.normalize("http://[::1]:1") == "http://[::1]:1")
        #expect(OriginPolicy.normalize("ws://example.com") == nil)
        #expect(OriginPolicy.normalize("example.com") == nil)
    }
}

@Suite("Client address")
struct ClientAddressTests {
    @Test func mappedIPv4IsCanonicalised() throws {
        let mapped = try #require(ClientAddress(ip: "::ffff:127.0.0.1"))
        #expect(mapped.ip == "127.0.0.1")
        #expect(mapped.isLoopback)
        #expect(mapped == ClientAddress(ip: "127.0.0.1"))
        #expect(ClientAddress(ip: "::FFFF:10.1.2.3")?.ip == "10.1.2.3")
        #expect(ClientAddress(ip: "[::ffff:10.1.2.3]")?.ip == "10.1.2.3")
        #expect(ClientAddress(ip: "::ffff:10.1.2.3")?.isLoopback == false)
    }

    @Test func ipv6IsCanonicalised() {
        #expect(ClientAddress(ip: "0:0:0:0:0:0:0:1")?.ip == "::1")
        #expect(ClientAddress(ip: "[::1]")?.isLoopback == true)
        #expect(ClientAddress(ip: "FE80::1%eth0")?.ip == "fe80::1")
        #expect(ClientAddress(ip: "2001:DB8:0::1")?.ip == "2001:db8::1")
        #expect(ClientAddress(ip: "2001:db8::1")?.isLoopback == false)
    }

    @Test func ipv4() {
        #expect(ClientAddress(ip: " 127.0.0.2 ")?.isLoopback == true)
        #expect(ClientAddress(ip: "10.0.0.1")?.isLoopback == false)
    }

    @Test func socketAddressesGiveWhatTheirTextGives() throws {
        for ip in ["127.0.0.1", "10.1.2.3", "::1", "::ffff:10.1.2.3", "2001:db8::1"] {
            let address = try SocketAddress(ipAddress: ip, port: 443)
            #expect(ClientAddress(address) == ClientAddress(ip: ip), "\(ip)")
        }
        #expect(ClientAddress(nil) == nil)
    }

    @Test func garbageIsRejected() {
        for text in ["", "localhost", "300.1.1.1", "1.2.3", "::ffff:", "not an ip", "127.0.0.1:80"] {
            #expect(ClientAddress(ip: text) == nil, "\(text)")
        }
    }
}

@Suite("Auth rate limiter")
struct AuthRateLimiterTests {
    @Test func locksOutAfterMaxAttemptsWithinTheWindow() {
        let limiter = AuthRateLimiter(policy: .init(maxAttempts: 3, windowMs: 1_000, lockoutMs: 5_000))
        #expect(limiter.beginAttempt("1.2.3.4", nowMs: 0) == nil)
        #expect(limiter.beginAttempt("1.2.3.4", nowMs: 100) == nil)
        #expect(limiter.beginAttempt("1.2.3.4", nowMs: 200) == nil)
        // The fourth attempt inside the window is refused and starts the lockout.
        #expect(limiter.beginAttempt("1.2.3.4", nowMs: 250) == 5_000)
        #expect(limiter.beginAttempt("1.2.3.4", nowMs: 4_250) == 1_000)
        // Other addresses are unaffected.
        #expect(limiter.beginAttempt("5.6.7.8", nowMs: 300) == nil)
        // A success does not lift a lockout.
        limiter.recordSuccess("1.2.3.4")
        #expect(limiter.beginAttempt("1.2.3.4", nowMs: 300) != nil)
        // It expires, and counting starts afresh.
        #expect(limiter.beginAttempt("1.2.3.4", nowMs: 5_300) == nil)
    }

    @Test func attemptsOutsideTheWindowDoNotAccumulate() {
        let limiter = AuthRateLimiter(policy: .init(maxAttempts: 2, windowMs: 1_000, lockoutMs: 5_000))
        #expect(limiter.beginAttempt("a", nowMs: 0) == nil)
        #expect(limiter.beginAttempt("a", nowMs: 1_500) == nil)
        #expect(limiter.beginAttempt("a", nowMs: 1_600) == nil)
        #expect(limiter.beginAttempt("a", nowMs: 1_700) == 5_000)
    }

    @Test func successResetsTheCount() {
        let limiter = AuthRateLimiter(policy: .init(maxAttempts: 2, windowMs: 10_000, lockoutMs: 5_000))
        #expect(limiter.beginAttempt("a", nowMs: 0) == nil)
        #expect(limiter.beginAttempt("a", nowMs: 1) == nil)
        limiter.recordSuccess("a")
        #expect(limiter.beginAttempt("a", nowMs: 10) == nil)
        #expect(limiter.beginAttempt("a", nowMs: 11) == nil)
    }

    @Test func parallelGuessesCannotExceedTheLimit() async {
        let limiter = AuthRateLimiter(policy: .init(maxAttempts: 5, windowMs: 60_000, lockoutMs: 60_000))
        let admitted = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<200 { group.addTask { limiter.beginAttempt("9.9.9.9", nowMs: 1_000) == nil } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(admitted == 5)
    }

    @Test func onlyDirectLoopbackWithoutBrowserOriginIsExempt() {
        let limiter = AuthRateLimiter(policy: .init())
        #expect(!limiter.applies(directLocal: true, hasBrowserOrigin: false))
        #expect(limiter.applies(directLocal: true, hasBrowserOrigin: true))
        #expect(limiter.applies(directLocal: false, hasBrowserOrigin: false))
        let strict = AuthRateLimiter(policy: .init(exemptLoopback: false))
        #expect(strict.applies(directLocal: true, hasBrowserOrigin: false))
    }

    @Test func tableStaysBounded() {
        let limiter = AuthRateLimiter(policy: .init(maxAttempts: 5, windowMs: 1_000, lockoutMs: 1_000), capacity: 10)
        for index in 0..<100 {
            _ = limiter.beginAttempt("10.0.0.\(index)", nowMs: index)
        }
        // The table evicted old entries but still tracks the newest address correctly.
        for offset in 0..<4 { #expect(limiter.beginAttempt("10.0.0.99", nowMs: 100 + offset) == nil) }
        #expect(limiter.beginAttempt("10.0.0.99", nowMs: 104) == 1_000)
    }
}

@Suite("Secret")
struct SecretTests {
    @Test func neverPrintsItsValue() {
        let secret = Secret("hunter2-very-secret")
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains("hunter2"))
        #expect(secret.matches("hunter2-very-secret"))
        #expect(!secret.matches("hunter2-very-secreT"))
        #expect(!secret.matches(""))
        #expect(Secret.generate().reveal() != Secret.generate().reveal())
        #expect(Secret.generate().reveal().count == 43)
    }
}
