import ClawgateProtocol
import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import NIOWebSocket
import Synchronization

/// Connects to a gateway, performs the handshake and runs `body` with the live connection.
///
/// Structured: the socket lives exactly as long as `body`; when `body` returns the socket is
/// closed normally, and a socket closed by the gateway fails pending calls.
public enum GatewayClient {
    public static func withConnection<T: Sendable>(
        _ options: GatewayClientOptions, logger: Logger = Logger(label: "clawgate.client"),
        _ body: @escaping @Sendable (GatewayConnection) async throws -> T
    ) async throws -> T {
        let outcome = LockedBox<Result<T, any Error>?>(nil)
        var configuration = WebSocketClientConfiguration(
            maxFrameSize: options.maxFrameSize, additionalHeaders: options.headers, closeTimeout: .seconds(2)
        )
        configuration.autoPing = .disabled
        let clientConfiguration = configuration
        let handshakeDone = LockedBox(false)
        let closeFrame: WebSocketCloseFrame? = try await withThrowingTaskGroup(of: WebSocketCloseFrame??.self) { group in
            group.addTask {
                do {
                    return .some(
                        try await WebSocketClient.connect(url: options.url, configuration: clientConfiguration, logger: logger) {
                            inbound, outbound, _ in
                            let result = await run(options: options, inbound: inbound, outbound: outbound) { connection in
                                handshakeDone.withLock { $0 = true }
                                return try await body(connection)
                            }
                            outcome.withLock { $0 = result }
                        }
                    )
                } catch {
                    if outcome.withLock({ $0 }) != nil { return .some(nil) }
                    throw GatewayClientError.unreachable(url: options.url, reason: describeConnectError(error))
                }
            }
            // A gateway that accepts the socket but never completes the handshake must not hang us.
            group.addTask {
                try await Task.sleep(for: options.connectTimeout)
                if handshakeDone.withLock({ $0 }) { return nil }
                throw GatewayClientError.timeout("no hello-ok from \(options.url) within \(options.connectTimeout)")
            }
            while let next = try await group.next() {
                if let frame = next {
                    group.cancelAll()
                    return frame
                }
            }
            return nil
        }
        let code = closeFrame.map { UInt16(webSocketErrorCode: $0.closeCode) }
        switch outcome.withLock({ $0 }) {
        case .some(.failure(GatewayClientError.connectRejected(let error, _, _))):
            throw GatewayClientError.connectRejected(error, closeCode: code, closeReason: closeFrame?.reason)
        case .some(.failure(GatewayClientError.closed(nil, nil))):
            throw GatewayClientError.closed(code: code, reason: closeFrame?.reason)
        case .some(let result):
            return try result.get()
        case .none:
            throw GatewayClientError.closed(code: code, reason: closeFrame?.reason)
        }
    }

    /// Runs `operation`, failing with `timeout` when it takes longer than `limit`
    /// (cancelling it, which also closes its socket).
    public static func withTimeout<T: Sendable>(
        _ limit: Duration, _ what: String, _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: limit)
                throw GatewayClientError.timeout(what)
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw GatewayClientError.timeout(what) }
            return first
        }
    }

    static func describeConnectError(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") || text.contains("ECONNREFUSED") {
            return "connection refused"
        }
        return text
    }

    private static func run<T: Sendable>(
        options: GatewayClientOptions, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter,
        body: @escaping @Sendable (GatewayConnection) async throws -> T
    ) async -> Result<T, any Error> {
        var messages = inbound.messages(maxSize: options.maxFrameSize).makeAsyncIterator()
        // 1. The challenge.
        let nonce: String
        do {
            guard let frame = try await nextFrame(&messages),
                case .event(let event) = frame, event.event == GatewayEvent.connectChallenge,
                let value = event.payload?["nonce"]?.stringValue
            else { return .failure(GatewayClientError.invalidResponse("expected connect.challenge first")) }
            nonce = value
        } catch {
            return .failure(error)
        }
        // 2. connect.
        let connectId = RandomID.uuid()
        do {
            let params = try options.connectParams(nonce: nonce, nowMs: Int(Date().timeIntervalSince1970 * 1000))
            let request = RequestFrame(id: connectId, method: "connect", params: try JSONCoding.value(of: params))
            try await outbound.write(.text(String(decoding: try JSONCoding.encode(request), as: UTF8.self)))
        } catch {
            return .failure(error)
        }
        // 3. hello-ok (events may not precede it, but tolerate them).
        let helloPayload: JSONValue
        do {
            while true {
                guard let frame = try await nextFrame(&messages) else {
                    return .failure(GatewayClientError.closed(code: nil, reason: nil))
                }
                guard case .response(let response) = frame, response.id == connectId else { continue }
                guard response.ok, let payload = response.payload else {
                    return .failure(
                        GatewayClientError.connectRejected(
                            response.error ?? ErrorShape(code: "UNKNOWN", message: "connect failed"), closeCode: nil, closeReason: nil
                        )
                    )
                }
                helloPayload = payload
                break
            }
        } catch {
            return .failure(error)
        }
        let hello: HelloOk
        do {
            hello = try JSONCoding.decode(HelloOk.self, from: helloPayload)
        } catch {
            return .failure(GatewayClientError.invalidResponse("hello-ok: \(JSONCoding.describe(error))"))
        }
        let connection = GatewayConnection(
            hello: hello, helloPayload: helloPayload, outbound: outbound, requestTimeout: options.requestTimeout
        )
        // 4. Route frames in this task while the body runs in a child; when the body is done it
        // closes the socket, which ends the read loop.
        return await withTaskGroup(of: Result<T, any Error>.self) { group in
            group.addTask {
                let result: Result<T, any Error>
                do {
                    result = .success(try await body(connection))
                } catch {
                    result = .failure(error)
                }
                try? await outbound.close(.normalClosure, reason: nil)
                return result
            }
            do {
                while let message = try await messages.next() {
                    if let frame = try? decode(message) { connection.receive(frame) }
                }
            } catch {}
            connection.closed(.closed(code: nil, reason: nil))
            return await group.next() ?? .failure(GatewayClientError.closed(code: nil, reason: nil))
        }
    }

    private static func nextFrame(_ iterator: inout WebSocketInboundMessageStream.AsyncIterator) async throws -> GatewayFrame? {
        guard let message = try await iterator.next() else { return nil }
        return try decode(message)
    }

    static func decode(_ message: WebSocketMessage) throws -> GatewayFrame {
        let value: JSONValue
        switch message {
        case .text(let text): value = try JSONCoding.jsonValue(from: text)
        case .binary(let buffer): value = try buffer.withUnsafeReadableBytes { try JSONCoding.jsonValue(from: $0) }
        }
        switch GatewayFrame.parse(value) {
        case .success(let frame): return frame
        case .failure(let error): throw GatewayClientError.invalidResponse(error.message)
        }
    }
}


/// A shared, lock-protected value for closures that outlive one scope.
final class LockedBox<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        self.mutex = Mutex(value)
    }

    func withLock<R>(_ body: (inout Value) -> R) -> R {
        mutex.withLock { body(&$0) }
    }
}
