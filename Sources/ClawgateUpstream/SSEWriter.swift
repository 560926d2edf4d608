import Hummingbird

/// A server-sent-event stream built up front and then written with the step's pacing.
///
/// Unpaced streams go out as one buffer (one write, the benchmark's hot path); clients still see
/// separate events. Paced and hanging streams write event by event and watch for the client
/// leaving, so `cancelledCount` reflects an abort within one pause.
struct SSEStream {
    struct Event {
        var text: String
        /// Carries model output (a text / refusal / arguments delta): the unit of pacing.
        var isContent: Bool
    }

    private(set) var events: [Event] = []

    /// `data: <json>` — the OpenAI Chat Completions framing.
    mutating func data(_ json: WireJSON, content: Bool = false) {
        events.append(Event(text: "data: " + json.serialized + "\n\n", isContent: content))
    }

    /// `event: <name>` + `data: <json>` — the Responses and Anthropic framing.
    mutating func event(_ name: String, _ json: WireJSON, content: Bool = false) {
        events.append(Event(text: "event: " + name + "\ndata: " + json.serialized + "\n\n", isContent: content))
    }

    /// `data: [DONE]`, the Chat Completions terminator.
    mutating func done() {
        events.append(Event(text: "data: [DONE]\n\n", isContent: false))
    }

    func response(_ pacing: Pacing, exchange: Exchange) -> Response {
        var headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        switch pacing {
        case .immediate:
            var text = ""
            text.reserveCapacity(events.reduce(0) { $0 + $1.text.utf8.count })
            for event in events { text += event.text }
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        case .paced(let milliseconds):
            headers[.connection] = "close"
            return Response(status: .ok, headers: headers, body: watchedBody(exchange) { writer in
                for event in events {
                    if event.isContent, milliseconds > 0 { try await Task.sleep(for: .milliseconds(milliseconds)) }
                    try await writer.write(ByteBuffer(string: event.text))
                }
            })
        case .hangAfterFirstChunk:
            headers[.connection] = "close"
            let state = exchange.state
            return Response(status: .ok, headers: headers, body: watchedBody(exchange) { writer in
                for event in events {
                    try await writer.write(ByteBuffer(string: event.text))
                    if event.isContent { break }
                }
                try await state.hangUntilShutdown()
            })
        case .hangAfterDone:
            headers[.connection] = "close"
            let state = exchange.state
            return Response(status: .ok, headers: headers, body: watchedBody(exchange) { writer in
                for event in events { try await writer.write(ByteBuffer(string: event.text)) }
                try await state.hangUntilShutdown()
            })
        }
    }

    /// A body whose writing is cancelled when the client closes the connection; the request is
    /// counted as cancelled if writing does not complete.
    ///
    /// Watching the request stream consumes it, so the connection is not reused afterwards
    /// (hence `Connection: close` on these responses).
    private func watchedBody(
        _ exchange: Exchange, _ write: @escaping @Sendable (inout any ResponseBodyWriter) async throws -> Void
    ) -> ResponseBody {
        let request = exchange.request
        let token = exchange.token
        return ResponseBody { writer in
            do {
                try await request.body.consumeWithCancellationOnInboundClose { _ in
                    try await write(&writer)
                }
                try await writer.finish(nil)
                token.finish()
            } catch {
                token.finish(cancelled: true)
                throw error
            }
        }
    }
}
