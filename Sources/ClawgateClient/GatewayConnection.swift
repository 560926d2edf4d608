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
    private let pending = Mutex(PendingRequests())

    /// Requests in flight. A response may arrive before its waiter registers (the send races the
    /// child task), so expected ids keep early responses until they are collected.
    struct PendingRequests {
        var expected: Set<String> = []
        var waiters: [String: CheckedContinuation<ResponseFrame, any Error>] = [:]
        var arrived: [String: ResponseFrame] = [:]
        var closed: GatewayClientError?

        mutating func forget(_ id: String) -> CheckedContinuation<ResponseFrame, any Error>? {
            expected.remove(id)
            arrived[id] = nil
            return waiters.removeValue(forKey: id)
        }
    }

    init(hello: HelloOk, helloPayload: JSONValue, outbound: WebSocketOutboundWriter, requestTimeout: Duration) {
        self.hello = hello
        self.helloPayload = helloPayload
        self.outbound = outbound
        self.requestTimeout = requestTimeout
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
        let payload = try await call(method, params: JSONCoding.value(of: params), timeout: timeout)
        return try JSONCoding.decode(R.self, from: payload)
    }

    /// Sends a request and returns the raw response frame (ok or not).
    public func request(_ method: String, params: JSONValue? = nil, timeout: Duration? = nil) async throws -> ResponseFrame {
        let id = UUID().uuidString.lowercased()
        let text = String(decoding: try JSONCoding.encode(RequestFrame(id: id, method: method, params: params)), as: UTF8.self)
        return try await awaitResponse(id: id, timeout: timeout ?? requestTimeout) {
            try await self.outbound.write(.text(text))
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

    private func awaitResponse(id: String, timeout: Duration, send: @escaping @Sendable () async throws -> Void) async throws -> ResponseFrame {
        if let closed = pending.withLock({ state -> GatewayClientError? in
            if state.closed == nil { state.expected.insert(id) }
            return state.closed
        }) {
            throw closed
        }
        defer { _ = pending.withLock { $0.forget(id) } }
        do {
            try await send()
        } catch {
            throw GatewayClientError.closed(code: nil, reason: "send failed: \(error)")
        }
        return try await withThrowingTaskGroup(of: ResponseFrame.self) { group in
            group.addTask {
                try await withTaskCancellationHandler {
                    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ResponseFrame, any Error>) in
                        let ready: Result<ResponseFrame, any Error>? = self.pending.withLock { state in
                            if let response = state.arrived.removeValue(forKey: id) { return .success(response) }
                            if let closed = state.closed { return .failure(closed) }
                            // Cancelled before parking: onCancel already ran and found nothing.
                            if Task.isCancelled { return .failure(CancellationError()) }
                            state.waiters[id] = continuation
                            return nil
                        }
                        if let ready { continuation.resume(with: ready) }
                    }
                } onCancel: {
                    self.pending.withLock { $0.waiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw GatewayClientError.timeout("no response to request \(id) within \(timeout)")
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw GatewayClientError.closed(code: nil, reason: nil) }
            return first
        }
    }

    /// Routes one inbound frame.
    func receive(_ frame: GatewayFrame) {
        switch frame {
        case .response(let response):
            // `agent` answers twice (accepted, then final): keep waiting past an "accepted" ack.
            if response.ok, response.payload?["status"]?.stringValue == "accepted" { return }
            let waiter: CheckedContinuation<ResponseFrame, any Error>? = pending.withLock { state in
                if let waiter = state.waiters.removeValue(forKey: response.id) { return waiter }
                if state.expected.contains(response.id) { state.arrived[response.id] = response }
                return nil
            }
            waiter?.resume(returning: response)
        case .event(let event):
            eventContinuation.yield(event)
        default:
            break
        }
    }

    /// Fails everything still waiting; called when the socket ends.
    func closed(_ error: GatewayClientError) {
        let waiting = pending.withLock { state in
            state.closed = state.closed ?? error
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for continuation in waiting { continuation.resume(throwing: error) }
        eventContinuation.finish()
    }

    /// Closes the socket normally.
    public func close() async {
        try? await outbound.close(.normalClosure, reason: "client closing")
    }
}
