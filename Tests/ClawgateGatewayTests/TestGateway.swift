import ClawgateClient
import ClawgateGateway
import ClawgateProtocol
import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import NIOWebSocket
import Synchronization
import Testing

/// Logs nothing unless `CLAWGATE_TEST_LOG` is set (then everything goes to stderr).
let testLogger: Logger = {
    if ProcessInfo.processInfo.environment["CLAWGATE_TEST_LOG"] != nil {
        var logger = Logger(label: "test") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .debug
        return logger
    }
    return Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
}()

/// A fresh directory under the system temp dir; the caller removes it.
func makeTempDir() throws -> String {
    let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("clawgate-test-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A gateway running in-process on an ephemeral loopback port.
struct TestGateway: Sendable {
    let server: GatewayServer
    let port: Int
    let stateDir: String
    let token: String

    var core: GatewayCore { server.core }
    var url: String { "ws://127.0.0.1:\(port)" }
    var httpBase: String { "http://127.0.0.1:\(port)" }
    var allowedOrigin: String { "http://127.0.0.1:\(port)" }
    var configPath: String { GatewayPaths(stateDir: stateDir).configPath }
    var auditPath: String { GatewayPaths(stateDir: stateDir).auditFile }

    /// Options for a CLI-like client with the shared token, a short request timeout and no device.
    func options(
        token: String? = nil, clientId: String = "cli", mode: String = "cli", scopes: [String] = OperatorScope.cliDefaults,
        device: DeviceIdentity? = nil
    ) -> GatewayClientOptions {
        GatewayClientOptions(
            url: url, token: token ?? self.token,
            client: ClientInfo(id: clientId, version: "1", platform: "linux", mode: mode), scopes: scopes, device: device,
            requestTimeout: .seconds(5)
        )
    }

    /// Options for a device-authenticated admin on loopback (auto-approved; CLI default scopes).
    func adminOptions() -> GatewayClientOptions {
        options(device: DeviceIdentity())
    }
}

struct TestTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out: \(what)" }
}

/// Runs `operation`, failing (and cancelling it) after `limit`.
func withDeadline<T: Sendable>(
    _ limit: Duration, _ what: String, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TestTimeout(what: what)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// Starts a real gateway on 127.0.0.1 with an ephemeral port, runs `body`, then stops the
/// gateway (by cancellation) and deletes its state directory.
///
/// - configFile: JSON5 text written to `<stateDir>/clawgate.json` (mode 0600) before the start;
///   the gateway reads, watches and reloads it like `clawgate gateway run` does (`configure`
///   then changes the in-memory config on top).
/// - token: the `--token` override; nil leaves the token to the config file.
/// - port: the `--port` override (0: any free port); nil leaves the port to the config file.
func withGateway<T: Sendable>(
    _ configure: (inout GatewayConfig, String) throws -> Void = { _, _ in },
    configFile: String? = nil, token: String? = "test-token", port portOverride: Int? = 0, authMode: AuthMode? = nil,
    password: String? = nil, logLevel: String? = nil, logger: Logger? = nil, timeout: Duration = .seconds(20),
    stateDir givenStateDir: String? = nil, _ body: @escaping @Sendable (TestGateway) async throws -> T
) async throws -> T {
    // A given state dir belongs to the caller (a restart test); a fresh one is removed after.
    let stateDir = try givenStateDir ?? makeTempDir()
    defer { if givenStateDir == nil { try? FileManager.default.removeItem(atPath: stateDir) } }
    let paths = GatewayPaths(stateDir: stateDir)
    if let configFile {
        try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: paths.configPath, contents: Data(configFile.utf8), attributes: [.posixPermissions: 0o600]))
    }
    let document = try ConfigDocument.read(path: paths.configPath)
    var config = try ConfigParser.parse(tree: try document.tree(), file: paths.configPath)
    try configure(&config, stateDir)
    let resolver = SettingsResolver(
        paths: paths,
        overrides: .init(
            port: portOverride, bind: .custom, customBindHost: "127.0.0.1", authMode: authMode, token: token.map(Secret.init),
            password: password.map(Secret.init), logLevel: logLevel
        ),
        environment: [:]
    )
    let settings = try resolver.resolve(config).settings
    let server = try GatewayServer(
        settings: settings, logger: logger ?? testLogger, configSource: ConfigSource(resolver: resolver, document: document)
    )
    let sharedToken = token ?? settings.token?.reveal() ?? ""
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            defer { portContinuation.finish() }
            try await server.run(onReady: { port in portContinuation.yield(port) })
            return nil
        }
        defer { group.cancelAll() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            // The server stopped before it was ready: surface its error.
            while try await group.next() != nil {}
            throw TestTimeout(what: "gateway did not start")
        }
        #expect(server.core.port == port)
        let gateway = TestGateway(server: server, port: port, stateDir: stateDir, token: sharedToken)
        let result = try await withDeadline(timeout, "test body") { try await body(gateway) }
        group.cancelAll()
        return result
    }
}

// MARK: normal clients

/// `GatewayClient.withConnection` bounded in time.
func connect<T: Sendable>(
    _ options: GatewayClientOptions, timeout: Duration = .seconds(10),
    _ body: @escaping @Sendable (GatewayConnection) async throws -> T
) async throws -> T {
    try await withDeadline(timeout, "connection to \(options.url)") {
        try await GatewayClient.withConnection(options, logger: testLogger, body)
    }
}

/// A refused `connect` as the client saw it.
struct Rejected: Sendable {
    var error: ErrorShape
    var closeCode: UInt16?
    var closeReason: String?
}

struct UnexpectedSuccess: Error {}

/// Connects expecting the gateway to refuse; fails the test if it admits the client.
func expectRejected(_ options: GatewayClientOptions, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Rejected {
    do {
        try await connect(options) { _ in }
    } catch GatewayClientError.connectRejected(let error, let closeCode, let closeReason) {
        return Rejected(error: error, closeCode: closeCode, closeReason: closeReason)
    }
    Issue.record("connect was admitted but should have been rejected", sourceLocation: sourceLocation)
    throw UnexpectedSuccess()
}

/// The error of a failed call; fails the test if the call succeeds.
func expectCallFails(
    _ connection: GatewayConnection, _ method: String, params: JSONValue? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws -> ErrorShape {
    let response = try await connection.request(method, params: params)
    guard !response.ok, let error = response.error else {
        Issue.record("\(method) succeeded but should have failed", sourceLocation: sourceLocation)
        throw UnexpectedSuccess()
    }
    return error
}

/// The next event with this name (and matching `predicate`), within `timeout`.
func waitForEvent(
    _ connection: GatewayConnection, _ name: String, timeout: Duration = .seconds(5),
    where predicate: @escaping @Sendable (EventFrame) -> Bool = { _ in true }
) async throws -> EventFrame {
    try await withDeadline(timeout, "event \(name)") {
        for await event in connection.events where event.event == name && predicate(event) {
            return event
        }
        throw GatewayClientError.closed(code: nil, reason: "event stream ended before \(name)")
    }
}

/// `status.connections.total` as another client sees it.
func connectionTotal(_ connection: GatewayConnection) async throws -> Int {
    try await connection.call("status", params: nil, timeout: .seconds(15))["gateway"]?["connections"]?["total"]?.intValue ?? -1
}

// MARK: raw sockets

/// A raw WebSocket to the gateway, for frames a well-behaved client would never send.
final class RawSession {
    private var iterator: WebSocketInboundMessageStream.AsyncIterator
    let outbound: WebSocketOutboundWriter

    init(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) {
        self.iterator = inbound.messages(maxSize: 64 << 20).makeAsyncIterator()
        self.outbound = outbound
    }

    func send(_ text: String) async throws {
        try await outbound.write(.text(text))
    }

    func send<E: Encodable>(json value: E) async throws {
        try await send(String(decoding: try JSONCoding.encode(value), as: UTF8.self))
    }

    /// The next frame as JSON, or nil once the server has closed the socket.
    func next() async throws -> JSONValue? {
        guard let message = try await iterator.next() else { return nil }
        switch message {
        case .text(let text): return try JSONCoding.decode(JSONValue.self, from: Data(text.utf8))
        case .binary(let buffer): return try JSONCoding.decode(JSONValue.self, from: Data(buffer.readableBytesView))
        }
    }

    /// Reads the `connect.challenge` that opens every socket.
    func challenge() async throws -> ConnectChallenge {
        let frame = try await next()
        #expect(frame?["type"] == "event")
        #expect(frame?["event"] == "connect.challenge")
        #expect(frame?["seq"] == nil)
        return try JSONCoding.decode(ConnectChallenge.self, from: frame?["payload"] ?? .null)
    }

    /// Sends `connect` with these params.
    func sendConnect(_ params: ConnectParams, id: String = "connect-1") async throws {
        try await send(json: RequestFrame(id: id, method: "connect", params: try JSONCoding.value(of: params)))
    }

    /// Skips events until the response with `id`.
    func response(id: String) async throws -> ResponseFrame {
        while let frame = try await next() {
            if frame["type"] == "res" {
                let response = try JSONCoding.decode(ResponseFrame.self, from: frame)
                if response.id == id { return response }
            }
        }
        throw GatewayClientError.closed(code: nil, reason: "closed before response \(id)")
    }

    /// Why `remaining()` stopped early, if it did not end with the server's close.
    private(set) var endError: (any Error)?

    /// Every frame until the server closes (a dropped TCP connection or an undecodable frame
    /// also ends the list, recorded in `endError`).
    func remaining() async -> [JSONValue] {
        var frames: [JSONValue] = []
        do {
            while let frame = try await next() { frames.append(frame) }
        } catch {
            endError = error
        }
        return frames
    }
}

struct RawOutcome<T: Sendable>: Sendable {
    var value: T
    var closeCode: UInt16?
    var closeReason: String?
}

private final class OutcomeBox<T: Sendable>: Sendable {
    let value = Mutex<Result<T, any Error>?>(nil)
}

/// Opens a raw socket, runs `body` with it and returns what `body` returned together with the
/// close frame the server sent (if any).
func withRawSocket<T: Sendable>(
    _ gateway: TestGateway, path: String = "", headers: HTTPFields = [:], timeout: Duration = .seconds(10),
    _ body: @escaping @Sendable (RawSession) async throws -> T
) async throws -> RawOutcome<T> {
    let box = OutcomeBox<T>()
    let configuration = WebSocketClientConfiguration(maxFrameSize: 1 << 20, additionalHeaders: headers, closeTimeout: .seconds(3))
    let url = gateway.url + path
    let closeFrame: WebSocketCloseFrame?
    do {
        closeFrame = try await withDeadline(timeout, "raw socket") {
            try await WebSocketClient.connect(url: url, configuration: configuration, logger: testLogger) { inbound, outbound, _ in
                let session = RawSession(inbound: inbound, outbound: outbound)
                let result: Result<T, any Error>
                do {
                    result = .success(try await body(session))
                } catch {
                    result = .failure(error)
                }
                box.value.withLock { $0 = result }
            }
        }
    } catch let error as TestTimeout {
        throw error
    } catch {
        // The socket failed after `body` finished (e.g. the server reset the TCP connection):
        // what `body` saw still counts, there just was no close frame.
        guard box.value.withLock({ $0 }) != nil else { throw error }
        closeFrame = nil
    }
    guard let result = box.value.withLock({ $0 }) else { throw TestTimeout(what: "raw socket body did not run") }
    return RawOutcome(
        value: try result.get(), closeCode: closeFrame.map { UInt16(webSocketErrorCode: $0.closeCode) },
        closeReason: closeFrame?.reason
    )
}

/// `connect` params signed by `identity` for `nonce` (what a correct client sends), which tests
/// then tamper with.
func signedConnectParams(
    _ identity: DeviceIdentity, nonce: String, token: String?, scopes: [String] = [OperatorScope.read],
    signedAt: Int = Int(Date().timeIntervalSince1970 * 1000), version: DeviceAuthPayload.Version = .v3,
    client: ClientInfo = ClientInfo(id: "cli", version: "1", platform: "linux", mode: "cli")
) throws -> ConnectParams {
    let proof = try identity.proof(
        version,
        fields: .init(
            deviceId: identity.deviceId, clientId: client.id, clientMode: client.mode, role: "operator", scopes: scopes,
            signedAtMs: signedAt, token: token, nonce: nonce, platform: client.platform, deviceFamily: client.deviceFamily
        )
    )
    return ConnectParams(
        minProtocol: 3, maxProtocol: 4, client: client, role: "operator", scopes: scopes, device: proof,
        auth: token.map { ConnectAuth(token: $0) }
    )
}

let originHeader = HTTPField.Name("Origin")!
let forwardedForHeader = HTTPField.Name("X-Forwarded-For")!
