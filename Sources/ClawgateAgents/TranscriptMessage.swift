import ClawgateProtocol

/// One message of a transcript, in the layout OpenClaw's session files use (`role` user,
/// assistant or toolResult; content blocks `text` and `toolCall`), so existing tooling reads them.
public struct TranscriptMessage: Sendable, Hashable, Codable {
    public var role: Role
    public var content: [Block]
    /// Milliseconds since the epoch.
    public var timestamp: Int
    // assistant
    public var provider: String?
    public var model: String?
    public var usage: Usage?
    public var stopReason: String?
    public var errorMessage: String?
    // toolResult
    public var toolCallId: String?
    public var toolName: String?
    public var isError: Bool?

    public enum Role: String, Sendable, Hashable, Codable {
        case user
        case assistant
        case toolResult
    }

    /// OpenClaw's usage shape, the same as in `chat` events.
    public typealias Usage = ChatEventUsage

    public enum Block: Sendable, Hashable, Codable {
        case text(String)
        case toolCall(id: String, name: String, arguments: JSONValue)

        private enum CodingKeys: String, CodingKey { case type, text, id, name, arguments }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            switch try container.decode(String.self, forKey: .type) {
            case "toolCall":
                self = .toolCall(
                    id: try container.decode(String.self, forKey: .id), name: try container.decode(String.self, forKey: .name),
                    arguments: try container.decodeIfPresent(JSONValue.self, forKey: .arguments) ?? .object([:])
                )
            default:
                // Unknown block kinds (images, thinking) keep whatever text they carry.
                self = .text(try container.decodeIfPresent(String.self, forKey: .text) ?? "")
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .text(let text):
                try container.encode("text", forKey: .type)
                try container.encode(text, forKey: .text)
            case .toolCall(let id, let name, let arguments):
                try container.encode("toolCall", forKey: .type)
                try container.encode(id, forKey: .id)
                try container.encode(name, forKey: .name)
                try container.encode(arguments, forKey: .arguments)
            }
        }
    }

    public init(role: Role, text: String, timestamp: Int) {
        self.role = role
        self.content = [.text(text)]
        self.timestamp = timestamp
    }

    public init(role: Role, content: [Block], timestamp: Int) {
        self.role = role
        self.content = content
        self.timestamp = timestamp
    }

    /// The concatenated text blocks.
    public var text: String {
        content.compactMap { block in
            if case .text(let text) = block { return text }
            return nil
        }.joined()
    }

    public var toolCalls: [(id: String, name: String, arguments: JSONValue)] {
        content.compactMap { block in
            if case .toolCall(let id, let name, let arguments) = block { return (id, name, arguments) }
            return nil
        }
    }
}
