import ClawgateAgents
import ClawgateModels
import ClawgateProtocol
import Foundation
import Hummingbird
import NIOCore

/// Runs one agent turn for an HTTP caller: either waits for the outcome (non-stream) or hands
/// out the run's events as they come (stream). A caller that goes away aborts the run, which
/// stops the upstream request.
struct OpenAIRun: Sendable {
    let gateway: GatewayCore
    let request: RunRequest

    /// Submits and waits for the end.
    func outcome() async throws(OpenAIError) -> RunOutcome {
        let runtime = gateway.agents.runtime
        let (stream, continuation) = AsyncStream.makeStream(of: RunOutcome.self, bufferingPolicy: .bufferingNewest(1))
        try submit { event in
            if case .finished(let outcome) = event {
                continuation.yield(outcome)
                continuation.finish()
            }
        }
        let sessionKey = request.sessionKey.raw
        let runId = request.runId
        let outcome = await withTaskCancellationHandler {
            var iterator = stream.makeAsyncIterator()
            return await iterator.next()
        } onCancel: {
            _ = runtime.abort(sessionKey: sessionKey, runId: runId)
        }
        guard let outcome else { throw OpenAIError(status: .serviceUnavailable, message: "the request was canceled", type: "server_error", code: "canceled") }
        return outcome
    }

    /// Submits and returns the run's events; `abort()` stops the run.
    func events() throws(OpenAIError) -> AsyncStream<RunEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: RunEvent.self)
        try submit { event in
            continuation.yield(event)
            if case .finished = event { continuation.finish() }
        }
        return stream
    }

    func abort() {
        _ = gateway.agents.runtime.abort(sessionKey: request.sessionKey.raw, runId: request.runId)
    }

    private func submit(_ observer: @escaping @Sendable (RunEvent) -> Void) throws(OpenAIError) {
        do {
            switch try gateway.agents.runtime.submit(request, observer: observer) {
            case .started: return
            case .inFlight, .finished:
                throw OpenAIError.invalidRequest("duplicate request id \(request.runId)")
            }
        } catch let error as AgentError {
            throw error.openAIError
        } catch let error as OpenAIError {
            throw error
        } catch {
            throw OpenAIError(status: .internalServerError, message: "\(error)", type: "server_error", code: nil)
        }
    }

    /// Server-sent events body: each item of `lines` becomes `data: <json>\n\n` (plus an `event:`
    /// line when named); a failed write (the client went away) aborts the run.
    static func sse(
        run: OpenAIRun, events: AsyncStream<RunEvent>, render: @escaping @Sendable (RunEvent) -> [SSEFrame], trailer: [SSEFrame]
    ) -> Response {
        let body = ResponseBody { writer in
            do {
                for await event in events {
                    for frame in render(event) { try await writer.write(frame.buffer) }
                }
                for frame in trailer { try await writer.write(frame.buffer) }
                try await writer.finish(nil)
            } catch {
                run.abort()
                throw error
            }
        }
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", .connection: "keep-alive"], body: body
        )
    }
}

/// One server-sent event.
struct SSEFrame: Sendable {
    var event: String?
    var data: String

    static let done = SSEFrame(event: nil, data: "[DONE]")

    static func json(_ value: JSONValue, event: String? = nil) -> SSEFrame {
        SSEFrame(event: event, data: String(decoding: (try? JSONCoding.encode(value)) ?? Data("{}".utf8), as: UTF8.self))
    }

    var buffer: ByteBuffer {
        var buffer = ByteBuffer()
        if let event { buffer.writeString("event: \(event)\n") }
        buffer.writeString("data: \(data)\n\n")
        return buffer
    }
}
