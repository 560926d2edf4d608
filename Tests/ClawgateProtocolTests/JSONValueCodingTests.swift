import ClawgateProtocol
import Foundation
import Testing

/// The conversions `JSONCoding` used before `JSONValueEncoder`/`JSONValueDecoder`: through JSON
/// text with Foundation's coders. The direct coders must give the same values and errors.
private enum TextRoundTrip {
    static func value<T: Encodable>(of value: T) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
    }

    static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try JSONDecoder().decode(type, from: JSONEncoder().encode(value))
    }
}

/// An error reduced to what callers can observe: case, type or key, coding path (string and int
/// values of every key) and description.
private func signature(_ error: any Error) -> String {
    func path(_ keys: [any CodingKey]) -> String {
        keys.map { "\($0.stringValue)#\($0.intValue.map(String.init) ?? "-")" }.joined(separator: "/")
    }
    switch error {
    case DecodingError.typeMismatch(let type, let context):
        return "typeMismatch(\(type)) at \(path(context.codingPath)): \(context.debugDescription)"
    case DecodingError.valueNotFound(let type, let context):
        return "valueNotFound(\(type)) at \(path(context.codingPath)): \(context.debugDescription)"
    case DecodingError.keyNotFound(let key, let context):
        return "keyNotFound(\(path([key]))) at \(path(context.codingPath)): \(context.debugDescription)"
    case DecodingError.dataCorrupted(let context):
        return "dataCorrupted at \(path(context.codingPath)): \(context.debugDescription)"
    case EncodingError.invalidValue(let value, let context):
        return "invalidValue(\(value)) at \(path(context.codingPath)): \(context.debugDescription)"
    default:
        return "other: \(error)"
    }
}

/// JSONDecoder's report for a number that does not fit its type (the one deliberate difference).
private func isFoundationNumberRangeError(_ error: any Error) -> Bool {
    guard case DecodingError.dataCorrupted(let context) = error else { return false }
    return context.codingPath.isEmpty && context.debugDescription == "The given data was not valid JSON."
}

private func isNumberRangeError(_ error: any Error) -> Bool {
    guard case DecodingError.dataCorrupted(let context) = error else { return false }
    return context.debugDescription.hasPrefix("Parsed JSON number <") && context.debugDescription.contains("> does not fit in ")
}

/// Decodes `value` both ways and records any difference. Returns the decoded value, if any.
@discardableResult
private func expectSameDecoding<T: Codable>(
    _ type: T.Type, from value: JSONValue, sourceLocation: SourceLocation = #_sourceLocation
) -> T? {
    let old = Result { try TextRoundTrip.decode(type, from: value) }
    let new = Result { try JSONValueDecoder().decode(type, from: value) }
    switch (old, new) {
    case (.success(let oldValue), .success(let newValue)):
        // Compare through canonical bytes: not every type here is Equatable.
        let oldBytes = try? JSONCoding.encode(oldValue, sortedKeys: true)
        let newBytes = try? JSONCoding.encode(newValue, sortedKeys: true)
        #expect(oldBytes == newBytes, "\(T.self) from \(value)", sourceLocation: sourceLocation)
        return newValue
    case (.failure(let oldError), .failure(let newError)):
        if isFoundationNumberRangeError(oldError) {
            #expect(isNumberRangeError(newError), "\(T.self) from \(value): \(signature(newError))", sourceLocation: sourceLocation)
        } else {
            #expect(signature(oldError) == signature(newError), "\(T.self) from \(value)", sourceLocation: sourceLocation)
            #expect(JSONCoding.describe(oldError) == JSONCoding.describe(newError), sourceLocation: sourceLocation)
        }
    case (.success, .failure(let error)):
        Issue.record("\(T.self) from \(value): only the direct decoder failed: \(signature(error))", sourceLocation: sourceLocation)
    case (.failure(let error), .success):
        Issue.record("\(T.self) from \(value): only the text round trip failed: \(signature(error))", sourceLocation: sourceLocation)
    }
    return nil
}

/// Encodes `value` both ways and records any difference.
private func expectSameEncoding<T: Encodable>(_ value: T, sourceLocation: SourceLocation = #_sourceLocation) {
    let old = Result { try TextRoundTrip.value(of: value) }
    let new = Result { try JSONValueEncoder().encode(value) }
    switch (old, new) {
    case (.success(let oldValue), .success(let newValue)):
        #expect(oldValue == newValue, "\(T.self)", sourceLocation: sourceLocation)
    case (.failure(let oldError), .failure(let newError)):
        #expect(signature(oldError) == signature(newError), sourceLocation: sourceLocation)
    case (.success, .failure(let error)):
        Issue.record("\(T.self): only the direct encoder failed: \(signature(error))", sourceLocation: sourceLocation)
    case (.failure(let error), .success):
        Issue.record("\(T.self): only the text round trip failed: \(signature(error))", sourceLocation: sourceLocation)
    }
}

/// A deterministic generator (SplitMix64) so that a failing mutation reproduces.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Values a mutation puts somewhere in a valid document: every JSON kind, numbers at and past
/// the edges of the integer types, integral and fractional doubles.
private let replacements: [JSONValue] = [
    .null, .bool(true), .bool(false), .int(0), .int(-1), .int(1), .int(255), .int(300), .int(65536), .int(Int.max), .int(Int.min),
    .double(1.5), .double(2.0), .double(-0.0), .double(1e300), .double(9.3e18), .double(0.1), .string(""), .string("x"),
    .string("2"), .array([]), .array([.int(1), .string("a")]), .object([:]), .object(["k": .null]),
]

/// A random change somewhere in `value`: replace a node, drop or add an object key, or drop an
/// array element.
private func mutate(_ value: JSONValue, using rng: inout SeededGenerator) -> JSONValue {
    let descend = Int.random(in: 0..<3, using: &rng) != 0
    switch value {
    case .object(var object) where !object.isEmpty && descend:
        let key = object.keys.sorted()[Int.random(in: 0..<object.count, using: &rng)]
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: object[key] = nil
        case 1: object["unknown\(Int.random(in: 0..<3, using: &rng))"] = replacements.randomElement(using: &rng) ?? .null
        default: object[key] = mutate(object[key] ?? .null, using: &rng)
        }
        return .object(object)
    case .array(var items) where !items.isEmpty && descend:
        let index = Int.random(in: 0..<items.count, using: &rng)
        if Int.random(in: 0..<4, using: &rng) == 0 { items.remove(at: index) } else { items[index] = mutate(items[index], using: &rng) }
        return .array(items)
    default:
        return replacements.randomElement(using: &rng) ?? .null
    }
}

private func json(_ text: String) throws -> JSONValue {
    try JSONCoding.decode(JSONValue.self, from: Data(text.utf8))
}

// MARK: - A type using every container kind

private enum Color: String, Codable { case red, green }
private enum Level: Int, Codable { case low = 1, high = 9 }

/// Exercises every container operation by hand: nested keyed and unkeyed containers, super
/// encoders/decoders (keyed, named and unkeyed), nil, all integer widths, floats, specials.
private struct Everything: Codable {
    var int = 1
    var int8: Int8 = -8
    var int16: Int16 = 16
    var int32: Int32 = -32
    var int64: Int64 = 64
    var uint: UInt = 1
    var uint8: UInt8 = 8
    var uint16: UInt16 = 16
    var uint32: UInt32 = 32
    var uint64: UInt64 = 1 << 63
    var double = 2.5
    var integralDouble = 2.0
    var float: Float = 1.1
    var bool = true
    var string = "s/\u{e9}"
    var optional: String? = nil
    var explicitNil: Int? = nil
    var color = Color.red
    var level = Level.high
    var tags: [String: Int] = ["a": 1, "1": 2]
    var byNumber: [Int: String] = [1: "one", -2: "minus two"]
    var byBool: [Bool: String] = [true: "yes"]
    var matrix: [[Double]] = [[1, 1.5], []]
    var optionals: [Int?] = [1, nil]
    var json: JSONValue = ["n": 2.0, "list": [1.5, 3.0, .null], "s": "x"]
    var data = Data([0, 1, 2, 250])
    var url = URL(string: "https://example.com/a?b=c")
    var date = Date(timeIntervalSinceReferenceDate: 12.5)
    var decimal = Decimal(string: "12.25") ?? 0

    enum Keys: String, CodingKey {
        case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, double, integralDouble, float, bool, string
        case optional, explicitNil, color, level, tags, byNumber, byBool, matrix, optionals, json, data, url, date, decimal
        case nested, list, base
    }

    enum NestedKeys: String, CodingKey { case inner, items }

    init() {}

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(int, forKey: .int)
        try container.encode(int8, forKey: .int8)
        try container.encode(int16, forKey: .int16)
        try container.encode(int32, forKey: .int32)
        try container.encode(int64, forKey: .int64)
        try container.encode(uint, forKey: .uint)
        try container.encode(uint8, forKey: .uint8)
        try container.encode(uint16, forKey: .uint16)
        try container.encode(uint32, forKey: .uint32)
        try container.encode(uint64, forKey: .uint64)
        try container.encode(double, forKey: .double)
        try container.encode(integralDouble, forKey: .integralDouble)
        try container.encode(float, forKey: .float)
        try container.encode(bool, forKey: .bool)
        try container.encode(string, forKey: .string)
        try container.encodeIfPresent(optional, forKey: .optional)
        try container.encodeNil(forKey: .explicitNil)
        try container.encode(color, forKey: .color)
        try container.encode(level, forKey: .level)
        try container.encode(tags, forKey: .tags)
        try container.encode(byNumber, forKey: .byNumber)
        try container.encode(byBool, forKey: .byBool)
        try container.encode(matrix, forKey: .matrix)
        try container.encode(optionals, forKey: .optionals)
        try container.encode(json, forKey: .json)
        try container.encode(data, forKey: .data)
        try container.encodeIfPresent(url, forKey: .url)
        try container.encode(date, forKey: .date)
        try container.encode(decimal, forKey: .decimal)
        var nested = container.nestedContainer(keyedBy: NestedKeys.self, forKey: .nested)
        try nested.encode(int8, forKey: .inner)
        var items = nested.nestedUnkeyedContainer(forKey: .items)
        try items.encode(uint16)
        try items.encodeNil()
        var itemObject = items.nestedContainer(keyedBy: NestedKeys.self)
        try itemObject.encode("deep", forKey: .inner)
        var itemArray = items.nestedUnkeyedContainer()
        try itemArray.encode(float)
        try items.encode(color)
        try float.encode(to: items.superEncoder())
        var list = container.nestedUnkeyedContainer(forKey: .list)
        try list.encode(contentsOf: [int32, int32])
        try string.encode(to: container.superEncoder())
        try level.encode(to: container.superEncoder(forKey: .base))
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        int = try container.decode(Int.self, forKey: .int)
        int8 = try container.decode(Int8.self, forKey: .int8)
        int16 = try container.decode(Int16.self, forKey: .int16)
        int32 = try container.decode(Int32.self, forKey: .int32)
        int64 = try container.decode(Int64.self, forKey: .int64)
        uint = try container.decode(UInt.self, forKey: .uint)
        uint8 = try container.decode(UInt8.self, forKey: .uint8)
        uint16 = try container.decode(UInt16.self, forKey: .uint16)
        uint32 = try container.decode(UInt32.self, forKey: .uint32)
        uint64 = try container.decode(UInt64.self, forKey: .uint64)
        double = try container.decode(Double.self, forKey: .double)
        integralDouble = try container.decode(Double.self, forKey: .integralDouble)
        float = try container.decode(Float.self, forKey: .float)
        bool = try container.decode(Bool.self, forKey: .bool)
        string = try container.decode(String.self, forKey: .string)
        optional = try container.decodeIfPresent(String.self, forKey: .optional)
        explicitNil = try container.decodeNil(forKey: .explicitNil) ? nil : container.decode(Int.self, forKey: .explicitNil)
        color = try container.decode(Color.self, forKey: .color)
        level = try container.decode(Level.self, forKey: .level)
        tags = try container.decode([String: Int].self, forKey: .tags)
        byNumber = try container.decode([Int: String].self, forKey: .byNumber)
        byBool = try container.decode([Bool: String].self, forKey: .byBool)
        matrix = try container.decode([[Double]].self, forKey: .matrix)
        optionals = try container.decode([Int?].self, forKey: .optionals)
        json = try container.decode(JSONValue.self, forKey: .json)
        data = try container.decode(Data.self, forKey: .data)
        url = try container.decodeIfPresent(URL.self, forKey: .url)
        date = try container.decode(Date.self, forKey: .date)
        decimal = try container.decode(Decimal.self, forKey: .decimal)
        let nested = try container.nestedContainer(keyedBy: NestedKeys.self, forKey: .nested)
        int8 = try nested.decode(Int8.self, forKey: .inner)
        var items = try nested.nestedUnkeyedContainer(forKey: .items)
        uint16 = try items.decode(UInt16.self)
        _ = try items.decodeNil()
        let itemObject = try items.nestedContainer(keyedBy: NestedKeys.self)
        _ = try itemObject.decode(String.self, forKey: .inner)
        var itemArray = try items.nestedUnkeyedContainer()
        float = try itemArray.decode(Float.self)
        color = try items.decode(Color.self)
        float = try Float(from: items.superDecoder())
        var list = try container.nestedUnkeyedContainer(forKey: .list)
        int32 = try list.decode(Int32.self)
        string = try String(from: container.superDecoder())
        level = try Level(from: container.superDecoder(forKey: .base))
    }
}

/// A value whose `encode(to:)` writes nothing: JSONEncoder makes it `{}` when nested and refuses
/// it at the top level.
private struct EncodesNothing: Codable {
    func encode(to encoder: any Encoder) throws {}
}

private struct HoldsNothing: Codable {
    var nothing = EncodesNothing()
    var list = [EncodesNothing()]
}

private struct Numbers: Codable {
    var a: Int
    var b: UInt8?
    var c: Double
    var d: Float?
    var e: [Int64]
}

// MARK: - Samples of our real types

/// One wire type with a valid document of it.
private struct Sample: Sendable {
    let name: String
    let document: String
    let check: @Sendable (JSONValue) -> Void

    static func of<T: Codable>(_ type: T.Type, _ document: String) -> Sample {
        Sample(name: "\(T.self)", document: document) { value in
            if let decoded = expectSameDecoding(T.self, from: value) { expectSameEncoding(decoded) }
        }
    }
}

private let samples: [Sample] = [
    .of(ConnectParams.self, #"""
        {"minProtocol":3,"maxProtocol":4,"client":{"id":"cli","version":"1.0","platform":"linux","mode":"cli","displayName":"d"},
         "role":"operator","scopes":["operator.read"],"caps":[],"permissions":{"x":true,"y":false},
         "device":{"id":"dev","publicKey":"pk","signature":"sig","signedAt":1700000000000,"nonce":"n"},
         "auth":{"token":"t","deviceToken":"dt"},"locale":"en","userAgent":"ua"}
        """#),
    .of(HelloOk.self, #"""
        {"type":"hello-ok","protocol":4,"server":{"version":"1","connId":"c1","host":"h"},
         "features":{"methods":["health"],"events":["tick"],"capabilities":["mesh"]},
         "snapshot":{"presence":[],"health":{},"stateVersion":{"presence":1,"health":2},"uptimeMs":5,"configPath":"/c",
                     "sessionDefaults":{"defaultAgentId":"main","mainKey":"main","mainSessionKey":"agent:main:main","scope":"per-sender"}},
         "policy":{"maxPayload":1048576,"maxBufferedBytes":2097152,"tickIntervalMs":30000},
         "auth":{"role":"operator","scopes":["operator.admin"],"deviceToken":"dt","issuedAtMs":1}}
        """#),
    .of(RequestFrame.self, #"{"type":"req","id":"1","method":"mesh.delegate","params":{"type":"review","context":{"n":2.5,"k":[1,null,"x"]},"deadline":10}}"#),
    .of(ResponseFrame.self, #"{"type":"res","id":"1","ok":false,"payload":{"a":[1,2.25]},"error":{"code":"INVALID_REQUEST","message":"m","details":{"code":"X"},"retryable":true,"retryAfterMs":1000}}"#),
    .of(EventFrame.self, #"{"type":"event","event":"mesh.task","payload":{"taskId":"t","result":{"ok":true,"score":0.75}},"seq":7,"stateVersion":{"presence":3,"health":4}}"#),
    .of(ChatEventPayload.self, #"""
        {"runId":"r","sessionKey":"s","seq":1,"state":"final","agentId":"a","deltaText":"d",
         "message":{"role":"assistant","content":[{"type":"text","text":"hi"}],"timestamp":5},
         "usage":{"input":1,"output":2,"totalTokens":3},"stopReason":"stop","errorDetail":{"status":500}}
        """#),
    .of(MeshDelegateParams.self, #"""
        {"to":"b","requirements":{"capabilities":["c"],"skills":["s"],"agentTypes":["t"]},"type":"review","description":"d",
         "context":{"files":["a"],"depth":2},"files":["f"],"priority":"high","deadline":60000,"idempotencyKey":"k"}
        """#),
    .of(MeshRegisterParams.self, #"{"agentId":"a","name":"n","capabilities":["x"],"maxConcurrentTasks":3,"subscribe":true,"events":false}"#),
    .of(MeshUpdateParams.self, #"{"taskId":"t","percentage":50,"message":"half"}"#),
    .of(MeshCompleteParams.self, #"{"taskId":"t","result":{"summary":"done","score":1.5,"items":[1,2,3]}}"#),
    .of(ErrorShape.self, #"{"code":"C","message":"m","details":{"a":1},"retryable":false,"retryAfterMs":5}"#),
    .of(Numbers.self, #"{"a":1,"b":255,"c":2.5,"d":1.25,"e":[1,-9007199254740993]}"#),
    .of(JSONValue.self, #"{"a":[1,2.5,{"b":null,"c":true}],"d":"e","f":-0.5}"#),
    .of([String: Int].self, #"{"a":1,"2":3}"#),
    .of([Int: String].self, #"{"1":"a","-2":"b"}"#),
    .of([[Bool]].self, #"[[true],[false,true],[]]"#),
    .of([Int?].self, #"[1,null,3]"#),
]

@Suite("Direct JSONValue coding matches the JSON text round trip")
struct JSONValueCodingTests {
    @Test func everyContainerKindEncodesAndDecodesTheSame() throws {
        expectSameEncoding(Everything())
        let encoded = try JSONValueEncoder().encode(Everything())
        expectSameDecoding(Everything.self, from: encoded)
        // And the tree the direct encoder built decodes back to the same value.
        let decoded = try JSONValueDecoder().decode(Everything.self, from: encoded)
        let again = try JSONValueEncoder().encode(decoded)
        #expect(again == encoded)
    }

    @Test func numbersReadBackAsJSONTextWouldGiveThem() throws {
        let encoder = JSONValueEncoder()
        // JSONEncoder writes 2.0 as "2", which reads back as an integer.
        #expect(try encoder.encode(2.0) == .int(2))
        #expect(try encoder.encode(-0.0) == .int(0))
        #expect(try encoder.encode(1e15) == .int(1_000_000_000_000_000))
        #expect(try encoder.encode(2.5) == .double(2.5))
        #expect(try encoder.encode(1e300) == .double(1e300))
        #expect(try encoder.encode(Float(1.1)) == .double(1.1))
        #expect(try encoder.encode(UInt64.max) == .double(1.8446744073709552e19))
        #expect(try encoder.encode(["n": JSONValue.double(3.0)]) == ["n": 3])
        for value in [0.0, 1, -1, 0.5, 1e-7, 123_456_789.125, 9.2e18, 9.3e18, -9.3e18, 1e16, 4_503_599_627_370_497, .pi, 1e308, 4.9e-324, 4.453225810008095e18, 9.223372036854776e18, 1.8446744073709552e19] {
            expectSameEncoding(value)
            expectSameEncoding([value])
            expectSameEncoding(Float(value))
        }
        var rng = SeededGenerator(state: 7)
        for _ in 0..<2000 {
            let bits = Double(bitPattern: rng.next())
            if bits.isFinite { expectSameEncoding(bits) }
            let scaled = Double(Int64.random(in: -1_000_000...1_000_000, using: &rng)) / 8
            expectSameEncoding(scaled)
            expectSameEncoding(Float(scaled))
            expectSameEncoding(Int64.random(in: .min ... .max, using: &rng))
            expectSameEncoding(UInt64.random(in: .min ... .max, using: &rng))
        }
    }

    @Test func numbersDecodeLikeJSONDecoderTakesTheirText() {
        let numbers: [JSONValue] = [
            .int(0), .int(-1), .int(127), .int(128), .int(255), .int(256), .int(300), .int(65535), .int(65536),
            .int(Int.max), .int(Int.min), .double(2.0), .double(-0.0), .double(1.5), .double(255.0), .double(1e15),
            .double(1e300), .double(-1e300), .double(9.223372036854776e18), .double(1.8446744073709552e19), .double(0.1),
            .double(3.4028235e38), .double(3.5e38), .double(4.453225810008095e18), .double(-9.2e18), .double(1e16),
            .double(123_456_789.125),
        ]
        for number in numbers {
            expectSameDecoding(Int.self, from: number)
            expectSameDecoding(Int8.self, from: number)
            expectSameDecoding(Int16.self, from: number)
            expectSameDecoding(Int32.self, from: number)
            expectSameDecoding(Int64.self, from: number)
            expectSameDecoding(UInt.self, from: number)
            expectSameDecoding(UInt8.self, from: number)
            expectSameDecoding(UInt16.self, from: number)
            expectSameDecoding(UInt32.self, from: number)
            expectSameDecoding(UInt64.self, from: number)
            expectSameDecoding(Double.self, from: number)
            expectSameDecoding(Float.self, from: number)
            expectSameDecoding(Decimal.self, from: number)
            expectSameDecoding([Int].self, from: [number])
            expectSameDecoding(Numbers.self, from: ["a": number, "c": number, "e": [number]])
        }
    }

    @Test func numbersOutOfRangeNameTheirPlace() {
        let cases: [(JSONValue, String)] = [
            (["a": 1.5, "c": 1, "e": []], "a: Parsed JSON number <1.5> does not fit in Int."),
            (["a": 1, "b": 300, "c": 1, "e": []], "b: Parsed JSON number <300> does not fit in UInt8."),
            (["a": 1, "c": 1, "d": 1e300, "e": []], "d: Parsed JSON number <1e+300> does not fit in Float."),
            (["a": 1, "c": 1, "e": [1, 2.5]], "e[1]: Parsed JSON number <2.5> does not fit in Int64."),
        ]
        for (value, message) in cases {
            let error = #expect(throws: DecodingError.self) { try JSONCoding.decode(Numbers.self, from: value) }
            #expect(error.map(JSONCoding.describe) == message)
        }
    }

    @Test func everyScalarKindIntoEveryScalarType() {
        let values: [JSONValue] = [.null, true, 1, 1.5, "s", "", [], [1], [:], ["a": 1]]
        for value in values {
            expectSameDecoding(Bool.self, from: value)
            expectSameDecoding(String.self, from: value)
            expectSameDecoding(Int.self, from: value)
            expectSameDecoding(Double.self, from: value)
            expectSameDecoding(Float.self, from: value)
            expectSameDecoding(UInt8.self, from: value)
            expectSameDecoding(Int?.self, from: value)
            expectSameDecoding([String].self, from: value)
            expectSameDecoding([String: Int].self, from: value)
            expectSameDecoding(JSONValue.self, from: value)
            expectSameDecoding(Color.self, from: value)
            expectSameDecoding(Level.self, from: value)
            expectSameDecoding(Data.self, from: value)
            expectSameDecoding(URL.self, from: value)
            expectSameDecoding(Date.self, from: value)
            expectSameDecoding(Decimal.self, from: value)
            expectSameDecoding(Numbers.self, from: value)
            expectSameDecoding([Bool].self, from: [value])
            expectSameDecoding([String: String].self, from: ["1": value])
            expectSameDecoding([Int: Int].self, from: ["k": value])
            expectSameDecoding(ClientInfo.self, from: ["id": value, "version": "1", "platform": "p", "mode": "m"])
        }
    }

    @Test func everythingStillMatchesAfterRandomMutations() throws {
        let encoded = try JSONValueEncoder().encode(Everything())
        var rng = SeededGenerator(state: 42)
        for _ in 0..<1500 {
            let mutated = mutate(encoded, using: &rng)
            if let decoded = expectSameDecoding(Everything.self, from: mutated) { expectSameEncoding(decoded) }
        }
    }

    @Test(arguments: samples.map(\.name))
    func wireTypeMatchesAfterRandomMutations(name: String) throws {
        let sample = try #require(samples.first { $0.name == name })
        let document = try json(sample.document)
        sample.check(document)
        var rng = SeededGenerator(state: UInt64(truncatingIfNeeded: name.utf8.reduce(5381) { $0 &* 33 &+ Int($1) }))
        for _ in 0..<600 {
            sample.check(mutate(document, using: &rng))
        }
    }

    @Test func userVisibleMessagesAreUnchanged() throws {
        let client: JSONValue = ["id": "cli", "version": "1", "platform": "linux", "mode": "cli"]
        let cases: [(JSONValue, String)] = [
            (["minProtocol": 3, "maxProtocol": 4], "missing required property 'client'"),
            (["minProtocol": "3", "maxProtocol": 4, "client": [:]], "minProtocol: expected a number"),
            ("connect me", "<root>: expected an object"),
            (["minProtocol": 3, "maxProtocol": 4, "client": ["id": 5, "version": "1", "platform": "p", "mode": "m"]], "client.id: expected a string"),
            (["minProtocol": 3, "maxProtocol": 4, "client": ["version": "1"]], "client: missing required property 'id'"),
            (["minProtocol": .null, "maxProtocol": 4, "client": client], "minProtocol: expected a number, got null"),
            (["minProtocol": 3, "maxProtocol": 4, "client": client, "scopes": ["a", 1]], "scopes[1]: expected a string"),
            (["minProtocol": 3, "maxProtocol": 4, "client": client, "permissions": ["x": "yes"]], "permissions.x: expected a boolean"),
            (["minProtocol": 3, "maxProtocol": 4, "client": client, "scopes": "a"], "scopes: expected an array"),
        ]
        for (value, message) in cases {
            let old = #expect(throws: DecodingError.self) { try TextRoundTrip.decode(ConnectParams.self, from: value) }
            let new = #expect(throws: DecodingError.self) { try JSONCoding.decode(ConnectParams.self, from: value) }
            #expect(old.map(JSONCoding.describe) == message)
            #expect(new.map(JSONCoding.describe) == message)
        }
    }

    @Test func optionalsAndNulls() throws {
        struct Optionals: Codable, Equatable {
            var a: Int?
            var b: JSONValue?
            var c: [String?]?
        }
        expectSameEncoding(Optionals())
        #expect(try JSONValueEncoder().encode(Optionals()) == [:])
        expectSameEncoding(Optionals(a: 1, b: .null, c: [nil, "x"]))
        #expect(try JSONValueEncoder().encode(Optionals(a: 1, b: .null, c: [nil, "x"])) == ["a": 1, "b": .null, "c": [.null, "x"]])
        for value: JSONValue in [[:], ["a": .null, "b": .null, "c": .null], ["b": 2.0, "c": [.null]], ["a": "x"], .null] {
            expectSameDecoding(Optionals.self, from: value)
            expectSameDecoding(Optionals?.self, from: value)
        }
        // A present null JSONValue field reads as absent, as JSONDecoder's decodeIfPresent does.
        #expect(try JSONCoding.decode(Optionals.self, from: ["b": .null]) == Optionals())
    }

    @Test func emptyEncodingsAndNonFiniteNumbers() {
        expectSameEncoding(HoldsNothing())
        expectSameEncoding(EncodesNothing())
        expectSameEncoding(Double.nan)
        expectSameEncoding(["x": [1, -Double.infinity]])
        expectSameEncoding(Float.infinity)
        expectSameEncoding(["x": JSONValue.array([1, .double(.nan)])])
        expectSameDecoding(HoldsNothing.self, from: ["nothing": 1, "list": [[:]]])
    }

    @Test func jsonValueIsTakenAsIs() throws {
        let value: JSONValue = ["a": [1, "b", .null, ["c": true]], "d": 2.5]
        #expect(try JSONValueEncoder().encode(value) == value)
        #expect(try JSONValueDecoder().decode(JSONValue.self, from: value) == value)
        #expect(try JSONCoding.value(of: RequestFrame(id: "1", method: "m", params: value)) == ["type": "req", "id": "1", "method": "m", "params": value])
        #expect(try JSONCoding.decode(RequestFrame.self, from: ["type": "req", "id": "1", "method": "m", "params": value]).params == value)
    }
}

@Suite("JSON text decodes like JSONDecoder")
struct JSONTextDecodingTests {
    /// `JSONCoding.decode(_:from: Data)` parses and decodes directly; whatever it returns or throws
    /// must be what `JSONDecoder` returns or throws for the same bytes, including the text the
    /// parser hands over to `JSONDecoder` (invalid JSON, duplicate keys).
    @Test(arguments: [
        #"{"minProtocol":3,"maxProtocol":4,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"}}"#,
        #" { "minProtocol" : 3.0 , "maxProtocol" : 4 , "client" : {"id":"cli","version":"1","platform":"p","mode":"m"}, "scopes": ["a","b"] } "#,
        #"{"minProtocol":"3","maxProtocol":4}"#,
        #"{"minProtocol":3,"maxProtocol":4,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli"},"scopes":["a",1]}"#,
        #"{"minProtocol":3,"maxProtocol":4,"client":{"version":"1"}}"#,
        #"{"minProtocol":3,"maxProtocol":4,"minProtocol":5}"#,
        #"{"minProtocol":3,"#,
        "[1, 2",
        "",
        "null",
        #""connect me""#,
    ])
    func connectParams(text: String) throws {
        let old = Result { try JSONDecoder().decode(ConnectParams.self, from: Data(text.utf8)) }
        let new = Result { try JSONCoding.decode(ConnectParams.self, from: Data(text.utf8)) }
        switch (old, new) {
        case (.success(let oldValue), .success(let newValue)):
            #expect(try JSONCoding.encode(oldValue, sortedKeys: true) == JSONCoding.encode(newValue, sortedKeys: true))
        case (.failure(let oldError), .failure(let newError)):
            #expect(signature(oldError) == signature(newError), "\(text)")
            #expect(JSONCoding.describe(oldError) == JSONCoding.describe(newError), "\(text)")
        default:
            Issue.record("\(text): JSONDecoder \(old), JSONCoding \(new)")
        }
    }

    @Test func anyJSONValueComesOutAsJSONDecoderReadsIt() throws {
        let text = #"{"a":[1,2.5,-0,1e3,12345678901234567890,"x\u00e9\n",true,null,{}],"b":{"c":2.0}}"#
        let old = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        let new = try JSONCoding.decode(JSONValue.self, from: Data(text.utf8))
        #expect(old == new)
    }
}
