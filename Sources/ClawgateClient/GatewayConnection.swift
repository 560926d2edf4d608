import ClawgateProtocol
import Foundation
import HummingbirdWSClient
import NIOCore
import NIOWebSocket
import Synchronization

/// An authenticated connection to a gateway: request/response correlation and an event stream.
public final class GatewayConnection: Sendable {
    /// The decoded `hello-ok` payload.
    public let hello: HelloOk
    /// The raw `hello-ok`, for fields this library does not model.
    public let helloPayload: JSONValue
    /// Events pushed by the gateway, in arrival order (bounded; oldest dropped if unread).
    public let events: AsyncStream<EventFrame>

    let outbound: WebSocketOutboundWriter
    let requestTimeout: Duration
    private let eventContinuation: AsyncStream<EventFrame>.Continuation
    private let waiters: ResponseWaiters
    /// Request ids are this connection's prefix and a counter: unique per socket without a
    /// random UUID (a system call and two strings) per request.
    private let idPrefix = RandomID.hex(count: 8) + "-"
    private let nextId = Atomic<Int>(0)

    init(hello: HelloOk, helloPayload: JSONValue, outbound: WebSocketOutboundWriter, requestTimeout: Duration) {
        self.hello = hello
        self.helloPayload = helloPayload
        self.outbound = outbound
        self.requestTimeout = requestTimeout
        self.waiters = ResponseWaiters()
        (self.events, self.eventContinuation) = AsyncStream.makeStream(of: EventFrame.self, bufferingPolicy: .bufferingNewest(4096))
    }

    /// Calls a method and returns its payload; an error response throws `requestFailed`.
    @discardableResult
    public func call(_ method: String, params: JSONValue? = nil, timeout: Duration? = nil) async throws -> JSONValue {
        let response = try await request(method, params: params, timeout: timeout)
        guard response.ok else {
            throw GatewayClientError.requestFailed(
                method: method, response.error ?? ErrorShape(code: "UNKNOWN", message: "error without details")
            )
        }
        return response.payload ?? .null
    }

    /// Calls a method with typed params and result.
    public func call<P: Encodable & Sendable, R: Decodable>(
        _ method: String, _ params: P, as type: R.Type, timeout: Duration? = nil
    ) async throws -> R {
        // The params go straight from their encoder into the frame (no `JSONValue` in between).
        let id = nextRequestId()
        let frame = try RequestEncoding.frame(id: id, method: method, paramsJSON: JSONCoding.encode(params))
        let response = try await send(frame, id: id, timeout: timeout)
        guard response.ok else {
            throw GatewayClientError.requestFailed(
                method: method, response.error ?? ErrorShape(code: "UNKNOWN", message: "error without details")
            )
        }
        return try JSONCoding.decode(R.self, from: response.payload ?? .null)
    }

    /// Sends a request and returns the raw response frame (ok or not).
    public func request(_ method: String, params: JSONValue? = nil, timeout: Duration? = nil) async throws -> ResponseFrame {
        let id = nextRequestId()
        return try await send(try RequestEncoding.frame(id: id, method: method, params: params), id: id, timeout: timeout)
    }

    private func nextRequestId() -> String {
        idPrefix + String(nextId.wrappingAdd(1, ordering: .relaxed).newValue)
    }

    private func send(_ frame: ByteBuffer, id: String, timeout: Duration?) async throws -> ResponseFrame {
        try await awaitResponse(id: id, timeout: timeout ?? requestTimeout) {
            try await self.outbound.write(.custom(WebSocketFrame(fin: true, opcode: .text, data: frame)))
        }
    }

    /// Sends arbitrary text (for protocol tests) and waits for the response with `id`.
    public func sendRaw(_ text: String, expectingResponseId id: String, timeout: Duration? = nil) async throws -> ResponseFrame {
        try await awaitResponse(id: id, timeout: timeout ?? requestTimeout) {
            try await self.outbound.write(.text(text))
        }
    }

    /// Sends arbitrary text without waiting for anything.
    public func sendRaw(_ text: String) async throws {
        try await outbound.write(.text(text))
    }

    /// Registers `id`, sends, then parks until the response, the timeout, cancellation or the
    /// socket's end. Registering first keeps a response that arrives before the waiter parks.
    private func awaitResponse(id: String, timeout: Duration, send: () async throws -> Void) async throws -> ResponseFrame {
        if let closed = waiters.expect(id, timeout: timeout) { throw closed }
        do {
            try await send()
        } catch let error as CancellationError {
            waiters.forget(id)
            throw error
        } catch {
            waiters.forget(id)
            throw GatewayClientError.closed(code: nil, reason: "send failed: \(error)")
        }
        return try await waiters.wait(for: id)
    }

    /// Routes one inbound frame.
    func receive(_ frame: GatewayFrame) {
        switch frame {
        case .response(let response):
            // `agent` answers twice (accepted, then final): keep waiting past an "accepted" ack.
            if response.ok, response.payload?["status"]?.stringValue == "accepted" { return }
            waiters.deliver(response)
        case .event(let event):
            eventContinuation.yield(event)
        default:
            break
        }
    }

    /// Fails everything still waiting; called when the socket ends.
    func closed(_ error: GatewayClientError) {
        waiters.close(error)
        eventContinuation.finish()
    }

    /// Closes the socket normally.
    public func close() async {
        try? await outbound.close(.normalClosure, reason: "client closing")
    }
}
