import ClawgateClient
import ClawgateGateway
import ClawgateProtocol
import Foundation
import Logging
import Testing

/// A logger writing everything (trace and up) to the gateway log file at `path`.
func fileLogger(path: String) throws -> Logger {
    let file = try GatewayLogFile(path: path)
    return Logger(label: "clawgate") { GatewayLogHandler(label: $0, level: .trace, file: file, writeToStderr: false) }
}

@Suite("Logging")
struct LoggingTests {
    @Test func secretsNeverReachTheLog() async throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let logPath = (dir as NSString).appendingPathComponent("gateway.log")
        let realToken = "REAL-shared-token-7f3a9c"
        let wrongToken = "WRONG-shared-token-b81e44"
        let deviceToken = try await withGateway(
            { config, _ in config.logging.file = logPath }, token: realToken, logLevel: "debug",
            logger: try fileLogger(path: logPath)
        ) { gw in
            #expect(gw.core.settings.logFile == logPath)
            #expect(try await expectRejected(gw.options(token: wrongToken)).error.detailCode == "AUTH_TOKEN_MISMATCH")
            let identity = DeviceIdentity()
            let deviceToken = try await connect(gw.options(device: identity)) { conn in
                try await conn.call("health")
                return try #require(conn.hello.auth?.deviceToken)
            }
            var tokenOnly = gw.options(device: identity)
            tokenOnly.token = nil
            tokenOnly.deviceToken = deviceToken
            try await connect(tokenOnly) { _ in }
            tokenOnly.deviceToken = "WRONG-device-token-55d0"
            _ = try await expectRejected(tokenOnly)
            // Token-bearing methods.
            try await connect(gw.adminOptions()) { admin in
                let rotated = try await admin.call(
                    "device.token.rotate", DeviceTokenRotateParams(deviceId: identity.deviceId, role: "operator"),
                    as: DeviceTokenRotateResult.self
                )
                #expect(!rotated.token.isEmpty)
                try await admin.call("logs.tail")
                // The pairing state keeps only hashes of device tokens.
                let paired = try String(
                    contentsOfFile: (gw.stateDir as NSString).appendingPathComponent("devices/paired.json"), encoding: .utf8
                )
                #expect(paired.contains(identity.deviceId))
                #expect(paired.contains("tokenHash"))
                #expect(!paired.contains(rotated.token))
                #expect(!paired.contains(deviceToken))
                #expect(!paired.contains(realToken))
            }
            return deviceToken
        }
        let log = try String(contentsOfFile: logPath, encoding: .utf8)
        #expect(log.contains("connect rejected"))
        #expect(log.contains("client connected"))
        for secret in [realToken, wrongToken, deviceToken, "WRONG-device-token-55d0"] {
            #expect(!log.contains(secret), "log contains \(secret)")
        }
    }

    @Test func logsTailServesTheLogFileByCursor() async throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let logPath = (dir as NSString).appendingPathComponent("logs/gateway.log")
        try await withGateway({ config, _ in config.logging.file = logPath }, logger: try fileLogger(path: logPath)) { gw in
            try await connect(gw.adminOptions()) { conn in
                let first = try await conn.call("logs.tail", LogsTailParams(), as: LogsTailResult.self)
                #expect(first.file == logPath)
                #expect(!first.lines.isEmpty)
                #expect(first.lines.contains { $0.contains("client connected") })
                #expect(first.cursor > 0 && first.cursor <= first.size)
                // Nothing new yet apart from what this call itself might have logged.
                let unchanged = try await conn.call("logs.tail", LogsTailParams(cursor: first.size), as: LogsTailResult.self)
                #expect(unchanged.cursor >= first.size)

                // Another client connects: its line shows up after the cursor, and only new lines come back.
                try await connect(gw.options(clientId: "openclaw-macos", mode: "ui")) { _ in }
                let next = try await conn.call("logs.tail", LogsTailParams(cursor: unchanged.cursor), as: LogsTailResult.self)
                #expect(next.lines.contains { $0.contains("client connected") && $0.contains("openclaw-macos") })
                #expect(next.cursor > unchanged.cursor)
                // Exactly the bytes after the cursor, as whole lines.
                #expect(next.truncated == nil)
                #expect(next.lines.reduce(0) { $0 + $1.utf8.count + 1 } == next.cursor - unchanged.cursor)

                let limited = try await conn.call("logs.tail", LogsTailParams(limit: 1), as: LogsTailResult.self)
                #expect(limited.lines.count == 1)
                #expect(limited.truncated == true)

                // A cursor past the end (rotated file) resets.
                let reset = try await conn.call("logs.tail", LogsTailParams(cursor: 1 << 40), as: LogsTailResult.self)
                #expect(reset.reset == true)
            }
        }
    }

    @Test func logsTailWithoutAFileIsEmpty() async throws {
        try await withGateway { gw in
            try await connect(gw.adminOptions()) { conn in
                let result = try await conn.call("logs.tail", LogsTailParams(), as: LogsTailResult.self)
                #expect(result.lines.isEmpty)
                #expect(result.cursor == 0)
            }
        }
    }
}
