import ClawgateProtocol
import Hummingbird

/// One request being answered: the parsed body plus what a route needs to pace or abandon it.
struct Exchange: Sendable {
    /// The request after its body was collected; still able to watch for the client leaving.
    let request: Request
    let body: JSONValue?
    /// Lowercased names.
    let headers: [String: String]
    let state: UpstreamState
    let token: InFlightToken

    /// Sends nothing (not even a status line) until the client goes away or the server shuts down;
    /// either way the request counts as cancelled.
    ///
    /// Hummingbird does not cancel a handler when its client disconnects; it does report the
    /// request's inbound stream closing, and `consumeWithCancellationOnInboundClose` turns that
    /// into cancellation of the wait.
    func hang() async -> Response {
        do {
            let state = self.state
            try await request.body.consumeWithCancellationOnInboundClose { _ in try await state.hangUntilShutdown() }
        } catch {
            // The client left (or the server is shutting down): that is how a hang ends.
        }
        token.finish(cancelled: true)
        return Response(status: .serviceUnavailable, headers: [.connection: "close"])
    }

    /// Answers a non-streaming request: at once, or for a paced step after waiting as long as the
    /// stream would have taken (`chunks` pauses), unless the client leaves first.
    func complete(pacing: Pacing, chunks: Int, _ makeResponse: () -> Response) async -> Response {
        guard case .paced(let milliseconds) = pacing, milliseconds > 0, chunks > 0 else { return makeResponse() }
        do {
            try await request.body.consumeWithCancellationOnInboundClose { _ in
                try await Task.sleep(for: .milliseconds(milliseconds * chunks))
            }
        } catch {
            token.finish(cancelled: true)
            return Response(status: .serviceUnavailable, headers: [.connection: "close"])
        }
        // Watching for the client closed this connection's request stream: no keep-alive.
        var response = makeResponse()
        response.headers[.connection] = "close"
        return response
    }

    /// A `200` JSON answer.
    static func json(_ value: WireJSON) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: value.serialized))
        )
    }
}
