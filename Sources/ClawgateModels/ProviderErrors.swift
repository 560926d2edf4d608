import AsyncHTTPClient
import ClawgateProtocol
import Foundation
import NIOCore
import NIOHTTP1

/// Turns upstream failures (HTTP statuses, in-stream error events, transport errors) into
/// `ModelError`s whose `kind` and `retryable` the router and clients can act on.
///
/// Messages come from the upstream's error body only, truncated, with the API key scrubbed (some
/// providers echo part of a bad key back). Request headers are never part of a message.
public enum ProviderErrors {
    /// The most of an error body that is read: enough for any JSON error, bounded against abuse.
    public static let maxErrorBodyBytes = 64 * 1024
    /// Messages longer than this are cut (an HTML error page is no use in a log line).
    public static let maxMessageLength = 500

    // MARK: HTTP statuses

    /// Maps a non-2xx response to a `ModelError`.
    public static func fromHTTP(
        status: Int, body: ByteBuffer?, headers: HTTPHeaders = [:], provider: String, model: String, apiKey: APIKey? = nil
    ) -> ModelError {
        let bodyText = body.map { String(buffer: $0) } ?? ""
        let details = ErrorDetails(parsing: bodyText)
        let message = sanitize(details.message ?? (bodyText.isEmpty ? "HTTP \(status)" : bodyText), apiKey: apiKey)
        let retryAfter = retryAfterMs(headers)

        func error(_ kind: ModelErrorKind, retryable: Bool) -> ModelError {
            ModelError(
                kind: kind, message: message, provider: provider, model: model, httpStatus: status, retryable: retryable,
                retryAfterMs: retryable ? retryAfter : nil)
        }

        switch status {
        case 401, 403:
            return error(.auth, retryable: false)
        case 429:
            // OpenAI answers 429 for an exhausted quota too; waiting does not fix that one.
            return error(.rateLimit, retryable: details.code != "insufficient_quota")
        case 408, 504:
            return error(.timeout, retryable: true)
        case 529, 500...599:
            return error(.unknown, retryable: true)
        case 400 where mentionsContextLength(bodyText), 413 where mentionsContextLength(bodyText):
            return error(.contextLength, retryable: false)
        default:
            return error(.unknown, retryable: false)
        }
    }

    /// Whether an error text says the prompt did not fit the model's context window.
    static func mentionsContextLength(_ text: String) -> Bool {
        let lowered = text.lowercased()
        return ["context_length_exceeded", "prompt is too long", "maximum context length", "exceeds the context window"]
            .contains { lowered.contains($0) }
    }

    // MARK: Errors inside a 200 stream

    /// Maps an error reported inside an event stream (OpenAI `{"error":{…}}`, Responses
    /// `error`/`response.failed`, Anthropic `event: error`), classified by its type/code.
    static func fromStreamError(
        type: String?, code: String?, message: String?, provider: String, model: String, apiKey: APIKey?
    ) -> ModelError {
        let text = sanitize(message ?? type ?? code ?? "the upstream reported an error", apiKey: apiKey)
        let tags = [type, code].compactMap { $0?.lowercased() }

        func error(_ kind: ModelErrorKind, retryable: Bool) -> ModelError {
            ModelError(kind: kind, message: text, provider: provider, model: model, retryable: retryable)
        }

        if tags.contains(where: { $0.contains("context_length") }) || mentionsContextLength(message ?? "") {
            return error(.contextLength, retryable: false)
        }
        if tags.contains("insufficient_quota") { return error(.rateLimit, retryable: false) }
        if tags.contains(where: { $0.contains("rate_limit") }) { return error(.rateLimit, retryable: true) }
        if tags.contains(where: { $0.contains("authentication") || $0.contains("permission") || $0 == "invalid_api_key" }) {
            return error(.auth, retryable: false)
        }
        if tags.contains(where: { $0.contains("timeout") }) { return error(.timeout, retryable: true) }
        if tags.contains(where: { $0.contains("invalid_request") || $0.contains("not_found") }) {
            return error(.unknown, retryable: false)
        }
        // server_error, api_error, overloaded_error and anything unrecognised: a glitch upstream.
        return error(.unknown, retryable: true)
    }

    // MARK: Transport

    /// Maps an error thrown by AsyncHTTPClient/NIO (or anything else below the API level).
    /// Cancellation is passed through untouched so callers can tell it from a failure.
    public static func fromTransport(_ error: any Error, provider: String, model: String) -> any Error {
        if error is CancellationError || error is ModelError { return error }
        func make(_ kind: ModelErrorKind, _ message: String, retryable: Bool) -> ModelError {
            ModelError(kind: kind, message: truncate(message), provider: provider, model: model, retryable: retryable)
        }
        if let error = error as? HTTPClientError {
            switch error {
            case .cancelled:
                return CancellationError()
            case .connectTimeout, .deadlineExceeded, .readTimeout, .writeTimeout, .tlsHandshakeTimeout,
                .getConnectionFromPoolTimeout, .httpProxyHandshakeTimeout, .socksHandshakeTimeout:
                return make(.timeout, "request timed out (\(error))", retryable: true)
            case .invalidURL, .emptyHost, .emptyScheme, .alreadyShutdown, .missingSocketPath:
                return make(.unknown, "cannot send the request (\(error))", retryable: false)
            default:
                return make(.unknown, "connection error (\(error))", retryable: true)
            }
        }
        if let error = error as? ChannelError, case .connectTimeout = error {
            return make(.timeout, "connect timed out", retryable: true)
        }
        if let error = error as? ServerSentEventParserError {
            return make(.unknown, "malformed event stream: \(error)", retryable: true)
        }
        // Connection refused/reset (NIOConnectionError, IOError, ChannelError): try again or elsewhere.
        return make(.unknown, "connection error (\(error))", retryable: true)
    }

    // MARK: Helpers

    /// Reads at most `maxErrorBodyBytes` of an error response; the rest is dropped with the
    /// connection. A body that fails midway yields what arrived.
    public static func readErrorBody(_ body: HTTPClientResponse.Body) async -> ByteBuffer {
        var collected = ByteBuffer()
        do {
            for try await var chunk in body {
                let room = maxErrorBodyBytes - collected.readableBytes
                if chunk.readableBytes >= room {
                    if let slice = chunk.readSlice(length: room) { collected.writeImmutableBuffer(slice) }
                    break
                }
                collected.writeBuffer(&chunk)
            }
        } catch {
            // Keep what we have: the status code alone still classifies the error.
        }
        return collected
    }

    /// The delay the upstream asked for: `retry-after-ms` (OpenAI), else `Retry-After` as
    /// seconds or an HTTP date.
    public static func retryAfterMs(_ headers: HTTPHeaders) -> Int? {
        if let text = headers.first(name: "retry-after-ms"), let ms = Double(text.trimmingCharacters(in: .whitespaces)),
            ms.isFinite, ms >= 0
        {
            return Int(min(ms, 86_400_000))
        }
        guard let text = headers.first(name: "retry-after")?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
            return nil
        }
        if let seconds = Double(text), seconds.isFinite, seconds >= 0 {
            return Int(min(seconds, 86_400) * 1000)
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return Int(max(0, min(date.timeIntervalSinceNow, 86_400)) * 1000)
    }

    /// Removes the API key (should the upstream echo it) and truncates.
    static func sanitize(_ message: String, apiKey: APIKey?) -> String {
        var text = message.trimmingCharacters(in: .whitespacesAndNewlines)
        if let key = apiKey?.reveal(), key.count >= 4 {
            text = text.replacingOccurrences(of: key, with: "<redacted>")
        }
        return truncate(text)
    }

    static func truncate(_ text: String) -> String {
        guard text.count > maxMessageLength else { return text }
        return String(text.prefix(maxMessageLength)) + "…"
    }
}

/// The useful fields of an error body: OpenAI `{"error":{"message","type","code"}}`, Anthropic
/// `{"type":"error","error":{"type","message"}}`, and the odd `{"message": …}` or `{"error": "…"}`.
struct ErrorDetails {
    var message: String?
    var type: String?
    var code: String?

    init(message: String? = nil, type: String? = nil, code: String? = nil) {
        self.message = message
        self.type = type
        self.code = code
    }

    init(parsing text: String) {
        if let data = text.data(using: .utf8), let json = try? JSONCoding.decode(JSONValue.self, from: data) {
            self.init(json: json)
        } else {
            self.init()
        }
    }

    init(json: JSONValue) {
        let error = json["error"]
        if let text = error?.stringValue {
            message = text
            return
        }
        let object = error?.objectValue != nil ? error : json
        message = object?["message"]?.stringValue
        type = object?["type"]?.stringValue
        if let code = object?["code"] {
            self.code = code.stringValue ?? code.intValue.map(String.init)
        }
    }
}
