import AsyncHTTPClient
import ClawgateProtocol
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Synchronization

/// Turns one API's server-sent events into `ChatStreamEvent`s. Pure state machines, so each
/// wire format is testable without a socket.
protocol ChatStreamDecoder: Sendable {
    /// The API said the answer is complete (`[DONE]`, `message_stop`, `response.completed`).
    var isComplete: Bool { get }
    /// Handles one event, appending what it produced to `output`.
    mutating func consume(_ event: ServerSentEvent, into output: inout [ChatStreamEvent]) throws(ModelError)
    /// The body ended (after completion, or early): appends the trailing events (tool calls,
    /// usage, the one `finish`), or throws when the answer was cut short.
    mutating func finish(into output: inout [ChatStreamEvent]) throws(ModelError)
}

/// The HTTP plumbing the three providers share: building JSON POSTs, mapping failures, and
/// running an event stream in a task that the consumer's cancellation really stops.
struct ProviderHTTP: Sendable {
    let config: ProviderConfig
    /// The client of the caller's event loop is used for each request (see `ModelHTTPClients`).
    let clients: ModelHTTPClients
    let logger: Logger
    /// Headers the API needs (auth, version), before `config.headers`, which may override them.
    let apiHeaders: [(String, String)]
    /// AsyncHTTPClient's deadline only covers the wait for the response head; the body of a
    /// stream is bounded by the router's timers (which cancel the task).
    let responseHeadTimeout: TimeAmount
    /// Bounds the drain after completion (`drainGrace`) without a timer per request.
    let deadlines: DeadlineScheduler

    /// After an API said "done", how long to keep reading for the end of the body so the
    /// connection can go back to the pool (instead of being closed mid-response).
    static let drainGrace: Duration = .seconds(2)
    /// Limit for a non-streamed JSON answer (embeddings of many inputs are big, but not this big).
    static let maxJSONBodyBytes = 64 * 1024 * 1024

    /// `baseURL` + `path`, without doubling the slash.
    func url(_ path: String) -> String {
        var base = config.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        return base + path
    }

    /// POSTs `body` as JSON and returns the response once its status is 2xx; a non-2xx status
    /// is read (bounded) and thrown as a `ModelError`, transport errors are mapped likewise.
    func post(_ url: String, body: JSONValue, model: String, streaming: Bool) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "accept", value: streaming ? "text/event-stream" : "application/json")
        for (name, value) in apiHeaders { request.headers.replaceOrAdd(name: name, value: value) }
        for (name, value) in config.headers.sorted(by: { $0.key < $1.key }) {
            request.headers.replaceOrAdd(name: name, value: value)
        }
        let data: Data
        do {
            data = try JSONCoding.encode(body)
        } catch {
            throw ModelError(
                kind: .unknown, message: "cannot encode the request: \(error)", provider: config.id, model: model,
                retryable: false)
        }
        request.body = .bytes(ByteBuffer(data: data))

        var log = logger
        log[metadataKey: "provider"] = "\(config.id)"
        log[metadataKey: "model"] = "\(model)"
        // The path only: a configured base URL may carry credentials (user info, a query key).
        log.debug("model request", metadata: ["path": "\(Self.pathForLogging(url))", "bytes": "\(data.count)"])

        let response: HTTPClientResponse
        do {
            response = try await clients.current.execute(request, timeout: responseHeadTimeout, logger: nil)
        } catch {
            let mapped = ProviderErrors.fromTransport(error, provider: config.id, model: model)
            if let modelError = mapped as? ModelError {
                log.notice("model request failed", metadata: ["error": "\(modelError.kind.rawValue)"])
            }
            throw mapped
        }
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            let errorBody = await ProviderErrors.readErrorBody(response.body)
            let error = ProviderErrors.fromHTTP(
                status: status, body: errorBody, headers: response.headers, provider: config.id, model: model,
                apiKey: config.apiKey)
            log.notice(
                "model request rejected",
                metadata: ["status": "\(status)", "kind": "\(error.kind.rawValue)", "retryable": "\(error.retryable)"])
            throw error
        }
        log.debug("model response", metadata: ["status": "\(status)"])
        return response
    }

    /// `https://user:pw@host/v1/messages?key=…` → `/v1/messages`.
    static func pathForLogging(_ url: String) -> String {
        guard let components = URLComponents(string: url) else { return "?" }
        return components.path
    }

    /// Reads a whole JSON answer (bounded) and decodes it.
    func readJSON<T: Decodable>(_ response: HTTPClientResponse, as type: T.Type, model: String) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await response.body.collect(upTo: Self.maxJSONBodyBytes)
        } catch let error as NIOTooManyBytesError {
            throw ModelError(
                kind: .unknown, message: "response larger than \(error.maxBytes ?? Self.maxJSONBodyBytes) bytes",
                provider: config.id, model: model, retryable: false)
        } catch {
            throw ProviderErrors.fromTransport(error, provider: config.id, model: model)
        }
        do {
            return try buffer.withUnsafeReadableBytes { try JSONCoding.decode(type, from: $0) }
        } catch {
            throw ModelError(
                kind: .unknown, message: "unexpected response: \(JSONCoding.describe(error))", provider: config.id,
                model: model, retryable: false)
        }
    }

    /// Runs the response's event stream through `decoder` in a task of its own.
    ///
    /// When the consumer's task is cancelled, or it stops iterating and lets go of the stream
    /// (an `AsyncThrowingStream` terminates when its last reference goes), the stream terminates
    /// and the task is cancelled, which makes AsyncHTTPClient cancel the request and close the
    /// connection.
    /// When the API says it is done, the consumer gets its `finish` at once and the task drains
    /// the rest of the body for a short while, so the connection can be reused.
    func stream<Decoder: ChatStreamDecoder>(
        _ response: HTTPClientResponse, decoder: Decoder, model: String
    ) -> AsyncThrowingStream<ChatStreamEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: ChatStreamEvent.self)
        let provider = config.id
        let body = response.body
        let deadlines = self.deadlines
        // The pump's own task, for the drain bound to cancel; set right after the task is made,
        // long (`drainGrace`) before that bound can run.
        let pumpTask = Mutex<Task<Void, Never>?>(nil)
        let task = Task(executorPreference: TaskAffinity.executor) {
            var drainBound: DeadlineScheduler.Deadline?
            await Self.pump(
                body, decoder: decoder, continuation: continuation, provider: provider, model: model,
                delivered: {
                    drainBound = deadlines.schedule(at: .now + Self.drainGrace) { pumpTask.withLock { $0 }?.cancel() }
                })
            drainBound?.cancel()
        }
        pumpTask.withLock { $0 = task }
        continuation.onTermination = { termination in
            if case .cancelled = termination { task.cancel() }
        }
        return stream
    }

    /// Reads the body through the parser and decoder into `continuation`. Once the API said it
    /// is done, the consumer has everything, `delivered` is called and the rest of the body is
    /// read and dropped (bounded by the caller cancelling this task).
    private static func pump<Decoder: ChatStreamDecoder>(
        _ body: HTTPClientResponse.Body, decoder initial: Decoder,
        continuation: AsyncThrowingStream<ChatStreamEvent, any Error>.Continuation, provider: String, model: String,
        delivered onDelivered: () -> Void
    ) async {
        var decoder = initial
        var parser = ServerSentEventParser()
        var output: [ChatStreamEvent] = []
        var delivered = false
        do {
            for try await chunk in body {
                if delivered { continue }  // draining for connection reuse
                var failure: ModelError?
                try parser.feed(chunk) { event in
                    guard failure == nil, !decoder.isComplete else { return }
                    do throws(ModelError) { try decoder.consume(event, into: &output) } catch { failure = error }
                }
                for event in output { continuation.yield(event) }
                output.removeAll(keepingCapacity: true)
                if let failure { throw failure }
                if decoder.isComplete {
                    try decoder.finish(into: &output)
                    for event in output { continuation.yield(event) }
                    continuation.finish()
                    delivered = true
                    onDelivered()
                }
            }
            if delivered { return }
            try Task.checkCancellation()
            parser.finish()
            try decoder.finish(into: &output)
            for event in output { continuation.yield(event) }
            continuation.finish()
        } catch {
            if delivered { return }  // a failure while draining is nobody's concern
            if Task.isCancelled {
                continuation.finish(throwing: CancellationError())
            } else {
                continuation.finish(throwing: ProviderErrors.fromTransport(error, provider: provider, model: model))
            }
        }
    }
}

extension ModelError {
    /// An answer the API shaped in a way we cannot read.
    static func malformed(_ what: String, provider: String, model: String) -> ModelError {
        ModelError(
            kind: .unknown, message: "malformed stream event: \(what)", provider: provider, model: model, retryable: true)
    }

    /// The body ended before the API said it was complete.
    static func truncated(provider: String, model: String) -> ModelError {
        ModelError(
            kind: .unknown, message: "the stream ended before the answer was complete", provider: provider, model: model,
            retryable: true)
    }
}

/// Decodes the JSON `data` of an event into `T`, or throws a `ModelError.malformed`.
func decodeEventData<T: Decodable>(_ type: T.Type, _ event: ServerSentEvent, provider: String, model: String)
    throws(ModelError) -> T
{
    do {
        // The event's own UTF-8 bytes, not a copy of them (this runs for every streamed chunk).
        var text = event.data
        return try text.withUTF8 { try JSONCoding.decode(type, from: UnsafeRawBufferPointer($0)) }
    } catch {
        throw ModelError.malformed(JSONCoding.describe(error), provider: provider, model: model)
    }
}
