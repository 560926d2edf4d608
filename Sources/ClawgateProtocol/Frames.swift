/// `{type:"req", id, method, params?}` — a client request.
public struct RequestFrame: Codable, Sendable, Equatable {
    public var type: String = "req"
    public var id: String
    public var method: String
    public var params: JSONValue?

    public init(id: String, method: String, params: JSONValue? = nil) {
        self.id = id
        self.method = method
        self.params = params
    }
}

/// `{type:"res", id, ok, payload?, error?}` — the answer to one request.
public struct ResponseFrame: Codable, Sendable, Equatable {
    public var type: String = "res"
    public var id: String
    public var ok: Bool
    public var payload: JSONValue?
    public var error: ErrorShape?

    public init(id: String, ok: Bool, payload: JSONValue? = nil, error: ErrorShape? = nil) {
        self.id = id
        self.ok = ok
        self.payload = payload
        self.error = error
    }
}

/// `{type:"event", event, payload?, seq?, stateVersion?}` — a server push.
public struct EventFrame: Codable, Sendable, Equatable {
    public var type: String = "event"
    public var event: String
    public var payload: JSONValue?
    public var seq: Int?
    public var stateVersion: StateVersion?

    public init(event: String, payload: JSONValue? = nil, seq: Int? = nil, stateVersion: StateVersion? = nil) {
        self.event = event
        self.payload = payload
        self.seq = seq
        self.stateVersion = stateVersion
    }
}

/// Monotonic counters of the presence and health subtrees; clients ignore older snapshots.
public struct StateVersion: Codable, Sendable, Equatable {
    public var presence: Int
    public var health: Int

    public init(presence: Int, health: Int) {
        self.presence = presence
        self.health = health
    }
}

/// Any frame on the wire, decoded by its `type` discriminator.
///
/// Unknown frame types are kept rather than rejected so that additive frame kinds
/// (such as `cancel`) never break an older peer.
public enum GatewayFrame: Sendable, Equatable {
    case request(RequestFrame)
    case response(ResponseFrame)
    case event(EventFrame)
    case cancel(id: String)
    case unknown(type: String, raw: JSONValue)

    /// The members a request frame may have.
    private static let requestKeys: Set<String> = ["type", "id", "method", "params", "traceparent", "expectedProfileId"]

    /// Interprets a decoded JSON value as a frame; the error names what is wrong with it.
    public static func parse(_ value: JSONValue) -> Result<GatewayFrame, FrameError> {
        guard case .object(let object) = value else {
            return .failure(FrameError(id: nil, message: "frame must be a JSON object"))
        }
        let id = object["id"]?.stringValue
        guard let type = object["type"]?.stringValue else {
            return .failure(FrameError(id: id, message: "missing required property 'type'"))
        }
        switch type {
        case "req":
            guard let idValue = object["id"] else {
                return .failure(FrameError(id: nil, message: "missing required property 'id'"))
            }
            guard let id = idValue.stringValue, !id.isEmpty else {
                return .failure(FrameError(id: nil, message: "id: expected a non-empty string"))
            }
            guard let methodValue = object["method"] else {
                return .failure(FrameError(id: id, message: "missing required property 'method'"))
            }
            guard let method = methodValue.stringValue, !method.isEmpty else {
                return .failure(FrameError(id: id, message: "method: expected a non-empty string"))
            }
            // Sorted only when something is wrong, so the error names the first extra key.
            if object.keys.contains(where: { !requestKeys.contains($0) }),
                let extra = object.keys.sorted().first(where: { !requestKeys.contains($0) })
            {
                return .failure(FrameError(id: id, message: "unexpected property '\(extra)'"))
            }
            return .success(.request(RequestFrame(id: id, method: method, params: object["params"])))
        case "res":
            // Well-formed frames are read from the object; anything unusual takes the Codable
            // path, whose error names the offending field.
            if let response = ResponseFrame(wellFormed: object) { return .success(.response(response)) }
            do {
                return .success(.response(try JSONCoding.decode(ResponseFrame.self, from: value)))
            } catch {
                return .failure(FrameError(id: id, message: JSONCoding.describe(error)))
            }
        case "event":
            if let event = EventFrame(wellFormed: object) { return .success(.event(event)) }
            do {
                return .success(.event(try JSONCoding.decode(EventFrame.self, from: value)))
            } catch {
                return .failure(FrameError(id: id, message: JSONCoding.describe(error)))
            }
        case "cancel":
            guard let id, !id.isEmpty else {
                return .failure(FrameError(id: nil, message: "id: expected a non-empty string"))
            }
            return .success(.cancel(id: id))
        default:
            return .success(.unknown(type: type, raw: value))
        }
    }
}

/// Why a JSON object is not a valid frame, with the frame id when one could be read.
public struct FrameError: Error, Sendable, Equatable {
    public var id: String?
    public var message: String

    public init(id: String?, message: String) {
        self.id = id
        self.message = message
    }
}
