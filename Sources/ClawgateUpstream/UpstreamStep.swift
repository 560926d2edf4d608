/// One scripted behaviour of the upstream for one request.
///
/// Tests queue steps per model with `UpstreamServer.script(model:_:)`; every request naming that
/// model pops the next one, so a test can say "first a 429, then a normal answer" and check how
/// the caller retried, without timing tricks. When the queue is empty the answer is `.echo`.
public enum UpstreamStep: Sendable, Hashable {
    /// Reply `echo: <text of the last user message>`.
    case echo
    /// Reply exactly this text.
    case reply(String)
    /// Fail with this HTTP status and the API's error body shape; 429 also sends `Retry-After: 0`.
    case status(Int, message: String)
    /// Accept the request and send nothing (not even headers) until the client goes away; the
    /// request then counts in `cancelledCount`.
    case hang
    /// Streaming: send one text chunk `partial`, then hang until the client goes away.
    /// Non-streaming requests behave as `.hang`.
    case hangAfterFirstChunk
    /// Streaming: send the whole answer, its end marker (`[DONE]`, `message_stop`,
    /// `response.completed`) included, then keep the response open until the client goes away.
    /// Non-streaming requests behave as `.hang`.
    case hangAfterDone
    /// Answer with one tool/function call (id `call_<n>` / `toolu_<n>`).
    case toolCall(name: String, arguments: String)
    /// Reply `tool result: <content of the last tool/function result in the request>`.
    case replyWithToolResult
    /// Stream the text word by word, pausing `chunkDelayMs` before each chunk; non-streaming
    /// requests wait the same total, then answer.
    case slow(String, chunkDelayMs: Int)
    /// A model refusal (OpenAI `refusal` / `content_filter`, Anthropic `stop_reason: "refusal"`).
    case refusal
    /// A 400 saying the prompt does not fit the model's context window, as each API words it.
    case contextLengthExceeded
}
