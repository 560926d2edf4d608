import ClawgateProtocol
import Foundation
import Testing

@Suite("Protocol version negotiation")
struct ProtocolVersionTests {
    @Test(arguments: [
        (3, 3, 3), (4, 4, 4), (1, 9, 4), (3, 4, 4), (1, 3, 3), (4, 100, 4), (2, 3, 3),
    ])
    func negotiatesHighestCommonVersion(min: Int, max: Int, expected: Int) {
        #expect(ProtocolVersion.negotiate(clientMin: min, clientMax: max) == expected)
    }

    @Test(arguments: [(5, 5), (1, 2), (4, 3), (5, 9), (0, 0)])
    func refusesDisjointOrInvertedRanges(min: Int, max: Int) {
        #expect(ProtocolVersion.negotiate(clientMin: min, clientMax: max) == nil)
    }

    @Test func supportedRangeIsThreeToFour() {
        #expect(ProtocolVersion.minimum == 3)
        #expect(ProtocolVersion.maximum == 4)
        #expect(ProtocolVersion.supported == 3...4)
    }
}

@Suite("Frame parsing")
struct FrameParsingTests {
    func parse(_ json: String) throws -> Result<GatewayFrame, FrameError> {
        GatewayFrame.parse(try JSONCoding.decode(JSONValue.self, from: Data(json.utf8)))
    }

    func failure(_ json: String) throws -> FrameError? {
        if case .failure(let error) = try parse(json) { return error }
        return nil
    }

    @Test func parsesRequest() throws {
        let result = try parse(#"{"type":"req","id":"1","method":"health","params":{"probe":true}}"#)
        #expect(result == .success(.request(RequestFrame(id: "1", method: "health", params: ["probe": true]))))
        // Additive v4 fields are allowed.
        let traced = try parse(#"{"type":"req","id":"2","method":"status","traceparent":"00-ab-cd-01"}"#)
        #expect(traced == .success(.request(RequestFrame(id: "2", method: "status"))))
    }

    @Test func nonObjectIsRejected() throws {
        #expect(try failure("[1,2]") == FrameError(id: nil, message: "frame must be a JSON object"))
        #expect(try failure(#""req""#) == FrameError(id: nil, message: "frame must be a JSON object"))
    }

    @Test func missingTypeKeepsTheId() throws {
        #expect(try failure(#"{"id":"a","method":"x"}"#) == FrameError(id: "a", message: "missing required property 'type'"))
        #expect(try failure(#"{"type":7,"id":"a"}"#) == FrameError(id: "a", message: "missing required property 'type'"))
    }

    @Test func requestIdMustBeNonEmptyString() throws {
        #expect(try failure(#"{"type":"req","method":"x"}"#) == FrameError(id: nil, message: "missing required property 'id'"))
        #expect(try failure(#"{"type":"req","id":"","method":"x"}"#) == FrameError(id: nil, message: "id: expected a non-empty string"))
        #expect(try failure(#"{"type":"req","id":5,"method":"x"}"#) == FrameError(id: nil, message: "id: expected a non-empty string"))
    }

    @Test func requestMethodMustBeNonEmptyString() throws {
        #expect(try failure(#"{"type":"req","id":"x"}"#) == FrameError(id: "x", message: "missing required property 'method'"))
        #expect(try failure(#"{"type":"req","id":"x","method":""}"#) == FrameError(id: "x", message: "method: expected a non-empty string"))
        #expect(try failure(#"{"type":"req","id":"x","method":["a"]}"#) == FrameError(id: "x", message: "method: expected a non-empty string"))
    }

    @Test func requestIsAClosedObject() throws {
        #expect(
            try failure(#"{"type":"req","id":"x","method":"m","zzz":1,"extra":2}"#)
                == FrameError(id: "x", message: "unexpected property 'extra'")
        )
    }

    @Test func responseAndEventDecode() throws {
        let response = try parse(#"{"type":"res","id":"1","ok":false,"error":{"code":"INVALID_REQUEST","message":"m"}}"#)
        #expect(
            response == .success(.response(ResponseFrame(id: "1", ok: false, error: ErrorShape(code: "INVALID_REQUEST", message: "m"))))
        )
        let event = try parse(#"{"type":"event","event":"tick","payload":{"ts":1},"seq":3,"stateVersion":{"presence":1,"health":2}}"#)
        #expect(
            event == .success(.event(EventFrame(event: "tick", payload: ["ts": 1], seq: 3, stateVersion: StateVersion(presence: 1, health: 2))))
        )
        guard case .failure(let error) = try parse(#"{"type":"res","id":"1"}"#) else {
            Issue.record("a response without ok must not parse")
            return
        }
        #expect(error.id == "1")
        #expect(error.message.contains("ok"))
        guard case .failure(let eventError) = try parse(#"{"type":"event"}"#) else {
            Issue.record("an event without a name must not parse")
            return
        }
        #expect(eventError.message.contains("event"))
    }

    @Test func cancelAndUnknownTypes() throws {
        #expect(try parse(#"{"type":"cancel","id":"r1"}"#) == .success(.cancel(id: "r1")))
        #expect(try failure(#"{"type":"cancel"}"#) == FrameError(id: nil, message: "id: expected a non-empty string"))
        let raw: JSONValue = ["type": "future-frame", "x": 1]
        #expect(GatewayFrame.parse(raw) == .success(.unknown(type: "future-frame", raw: raw)))
    }
}

@Suite("Error shape")
struct ErrorShapeTests {
    @Test func encodesAndDecodesDetailCode() throws {
        let shape = ErrorShape(
            code: ErrorCode.invalidRequest, message: "m", details: ["code": "AUTH_RATE_LIMITED"], retryable: true,
            retryAfterMs: 10
        )
        #expect(shape.detailCode == "AUTH_RATE_LIMITED")
        let decoded = try JSONCoding.decode(ErrorShape.self, from: JSONCoding.encode(shape))
        #expect(decoded == shape)
        #expect(ErrorShape(code: "X", message: "y").detailCode == nil)
    }
}

@Suite("Client ids")
struct ClientIDTests {
    @Test func canonicalisesCaseInsensitively() {
        #expect(GatewayClientID.canonical("CLI") == "cli")
        #expect(GatewayClientID.canonical("OpenClaw-MacOS") == "openclaw-macos")
        #expect(GatewayClientID.canonical("evil") == nil)
        #expect(GatewayClientMode.canonical("Backend") == "backend")
        #expect(GatewayClientMode.canonical("worker") == nil)
    }
}
