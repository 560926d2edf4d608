import ClawgateProtocol

/// Reads the text out of message content in any of the shapes the APIs accept.
enum MessageText {
    /// A string, or an array of parts whose `text` fields (`text`, `input_text`, `output_text`
    /// parts, Anthropic text blocks) are joined with newlines. Anything else has no text.
    static func of(_ content: JSONValue?) -> String {
        switch content {
        case .string(let text)?:
            return text
        case .array(let parts)?:
            var texts: [String] = []
            for part in parts {
                if let text = part["text"]?.stringValue { texts.append(text) }
            }
            return texts.joined(separator: "\n")
        default:
            return ""
        }
    }

    /// The body's top-level object, or a 400 in the API's words.
    static func object(_ body: JSONValue?) throws(APIError) -> [String: JSONValue] {
        guard let object = body?.objectValue else { throw .badRequest("The request body must be a JSON object.") }
        return object
    }

    /// A required string field (typically `model`).
    static func requiredString(_ object: [String: JSONValue], _ key: String) throws(APIError) -> String {
        guard let value = object[key]?.stringValue, !value.isEmpty else {
            throw .badRequest("Missing required parameter: '\(key)'.", param: key)
        }
        return value
    }
}
