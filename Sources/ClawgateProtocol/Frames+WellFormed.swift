/// Frames read straight from an already parsed JSON object.
///
/// Why: decoding a `Codable` frame out of a `JSONValue` means encoding it back to bytes and
/// decoding those again, which doubled the cost of every inbound response and event. These
/// initializers accept exactly what the `Codable` conformances accept for well-formed input
/// (`null` optionals read as absent, extra keys ignored) and return nil for anything else, so
/// the caller falls back to `Codable` and its precise error messages.
extension ResponseFrame {
    public init?(wellFormed object: [String: JSONValue]) {
        guard case .string(let type)? = object["type"], case .string(let id)? = object["id"], case .bool(let ok)? = object["ok"]
        else { return nil }
        var error: ErrorShape?
        switch object["error"] {
        case nil, .null?: error = nil
        case .object(let fields)?:
            guard let shape = ErrorShape(wellFormed: fields) else { return nil }
            error = shape
        case .some: return nil
        }
        self.init(id: id, ok: ok, payload: WellFormed.optional(object["payload"]), error: error)
        self.type = type
    }
}

extension EventFrame {
    public init?(wellFormed object: [String: JSONValue]) {
        guard case .string(let type)? = object["type"], case .string(let event)? = object["event"] else { return nil }
        guard let seq = WellFormed.optionalInt(object["seq"]) else { return nil }
        var stateVersion: StateVersion?
        switch object["stateVersion"] {
        case nil, .null?: stateVersion = nil
        case .object(let fields)?:
            guard case .int(let presence)? = fields["presence"], case .int(let health)? = fields["health"] else { return nil }
            stateVersion = StateVersion(presence: presence, health: health)
        case .some: return nil
        }
        self.init(event: event, payload: WellFormed.optional(object["payload"]), seq: seq, stateVersion: stateVersion)
        self.type = type
    }
}

extension ErrorShape {
    public init?(wellFormed object: [String: JSONValue]) {
        guard case .string(let code)? = object["code"], case .string(let message)? = object["message"] else { return nil }
        var retryable: Bool?
        switch object["retryable"] {
        case nil, .null?: retryable = nil
        case .bool(let value)?: retryable = value
        case .some: return nil
        }
        guard let retryAfterMs = WellFormed.optionalInt(object["retryAfterMs"]) else { return nil }
        self.init(
            code: code, message: message, details: WellFormed.optional(object["details"]), retryable: retryable,
            retryAfterMs: retryAfterMs
        )
    }
}

private enum WellFormed {
    /// An optional JSON member as `Codable` reads it: absent and `null` are both nil.
    static func optional(_ value: JSONValue?) -> JSONValue? {
        if case .null? = value { return nil }
        return value
    }

    /// `.some(nil)` for absent or null, `.some(n)` for an integer, nil (not well-formed) otherwise.
    static func optionalInt(_ value: JSONValue?) -> Int?? {
        switch value {
        case nil, .null?: return .some(nil)
        case .int(let number)?: return .some(number)
        case .some: return nil
        }
    }
}
