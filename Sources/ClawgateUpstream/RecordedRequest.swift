import ClawgateProtocol

/// A request as the upstream received it, kept so tests can assert what a provider or the
/// gateway actually put on the wire (auth headers, translated messages, tools, stream flags).
public struct RecordedRequest: Sendable {
    public var method: String
    /// The path without the query string, e.g. `/v1/chat/completions`.
    public var path: String
    /// Header names lowercased; repeated headers joined with `, `.
    public var headers: [String: String]
    /// The parsed JSON body; `nil` when there was no body or it was not valid JSON.
    public var body: JSONValue?

    public init(method: String, path: String, headers: [String: String], body: JSONValue?) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
    }
}
