import Foundation

/// Decodes a `Decodable` value straight out of a `JSONValue` tree.
///
/// `JSONCoding.decode(_:from: JSONValue)` used to write the tree as JSON text and parse it with
/// `JSONDecoder`; every RPC's params took that detour. No package available here (see
/// `swift-packages-b.md`) decodes from an in-memory JSON tree, so this one is hand-written.
///
/// It accepts what `JSONDecoder` accepts from the tree's text and throws the `DecodingError`
/// `JSONDecoder` throws — same case, coding path and description — because
/// `JSONCoding.describe(_:)` turns those into the messages clients read
/// (`client.id: expected a string`, `missing required property 'x'`). In particular:
/// - an integer type takes `.int` and integral `.double` values that fit (`2.0` into `Int`);
///   a `Double`/`Float` takes `.int` too;
/// - `null` into a `Bool` is a type mismatch, into other values "value not found";
/// - `Data` from Base64, `URL` from a string, `Decimal` from a number, as JSONDecoder's defaults;
/// - a `JSONValue` is taken as is (normalised like text would: `.double(2)` reads as `.int(2)`).
///
/// One deliberate difference: a number that does not fit the target type (300 into `UInt8`, 1.5
/// into `Int`) is a `dataCorrupted` error at the number's own coding path saying so, where
/// `JSONDecoder` reports "The given data was not valid JSON." at the root.
public struct JSONValueDecoder: Sendable {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try JSONValueDecoderImpl.unwrap(type, from: value, at: .root)
    }
}

final class JSONValueDecoderImpl: Decoder, SingleValueDecodingContainer {
    let value: JSONValue
    let path: JSONValueCodingPath

    init(value: JSONValue, path: JSONValueCodingPath) {
        self.value = value
        self.path = path
    }

    var codingPath: [any CodingKey] { path.keys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(JSONValueKeyedDecodingContainer<Key>(object: try Self.object(value, at: path), path: path))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        JSONValueUnkeyedDecodingContainer(array: try Self.array(value, at: path), path: path)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    // MARK: SingleValueDecodingContainer

    func decodeNil() -> Bool { value.isNull }
    func decode(_ type: Bool.Type) throws -> Bool { try Self.bool(value, at: path) }
    func decode(_ type: String.Type) throws -> String { try Self.string(value, at: path) }
    func decode(_ type: Double.Type) throws -> Double { try Self.floatingPoint(value, at: path) }
    func decode(_ type: Float.Type) throws -> Float { try Self.floatingPoint(value, at: path) }
    func decode(_ type: Int.Type) throws -> Int { try Self.integer(value, at: path) }
    func decode(_ type: Int8.Type) throws -> Int8 { try Self.integer(value, at: path) }
    func decode(_ type: Int16.Type) throws -> Int16 { try Self.integer(value, at: path) }
    func decode(_ type: Int32.Type) throws -> Int32 { try Self.integer(value, at: path) }
    func decode(_ type: Int64.Type) throws -> Int64 { try Self.integer(value, at: path) }
    func decode(_ type: UInt.Type) throws -> UInt { try Self.integer(value, at: path) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try Self.integer(value, at: path) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try Self.integer(value, at: path) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try Self.integer(value, at: path) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try Self.integer(value, at: path) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try Self.unwrap(type, from: value, at: path) }

    // MARK: Conversions shared by the containers

    /// Decodes a nested value: specials directly, everything else through its `init(from:)`.
    static func unwrap<T: Decodable>(_ type: T.Type, from value: JSONValue, at path: JSONValueCodingPath) throws -> T {
        if T.self == JSONValue.self, let json = try value.normalizedAsJSONText(at: path) as? T { return json }
        if T.self == Data.self || T.self == URL.self || T.self == Date.self || T.self == Decimal.self, value.isNull {
            // JSONDecoder reads these itself and reports null under their own name.
            throw valueNotFound(T.self, at: path)
        }
        if T.self == Data.self, let data = try data(value, at: path) as? T { return data }
        if T.self == URL.self, let url = try url(value, at: path) as? T { return url }
        if T.self == Decimal.self, let decimal = try decimal(value, at: path) as? T { return decimal }
        return try T(from: JSONValueDecoderImpl(value: value, path: path))
    }

    static func object(_ value: JSONValue, at path: JSONValueCodingPath) throws -> [String: JSONValue] {
        switch value {
        case .object(let object): return object
        case .null:
            throw DecodingError.valueNotFound(
                [String: Any].self,
                DecodingError.Context(codingPath: path.keys, debugDescription: "Cannot get keyed decoding container -- found null value instead"))
        default: throw typeMismatch([String: Any].self, value, at: path)
        }
    }

    static func array(_ value: JSONValue, at path: JSONValueCodingPath) throws -> [JSONValue] {
        switch value {
        case .array(let array): return array
        case .null:
            throw DecodingError.valueNotFound(
                [Any].self,
                DecodingError.Context(codingPath: path.keys, debugDescription: "Cannot get unkeyed decoding container -- found null value instead"))
        default: throw typeMismatch([Any].self, value, at: path)
        }
    }

    static func bool(_ value: JSONValue, at path: JSONValueCodingPath) throws -> Bool {
        // JSONDecoder calls null where a Bool belongs a type mismatch, not a missing value.
        guard case .bool(let bool) = value else { throw typeMismatch(Bool.self, value, at: path) }
        return bool
    }

    static func string(_ value: JSONValue, at path: JSONValueCodingPath) throws -> String {
        switch value {
        case .string(let string): return string
        case .null: throw valueNotFound(String.self, at: path)
        default: throw typeMismatch(String.self, value, at: path)
        }
    }

    static func integer<I: FixedWidthInteger>(_ value: JSONValue, at path: JSONValueCodingPath) throws -> I {
        let result: I?
        switch value {
        case .int(let int): result = I(exactly: int)
        case .double(let double): result = JSONValue.textInteger(of: double, as: I.self)
        case .null: throw valueNotFound(I.self, at: path)
        default: throw typeMismatch(I.self, value, at: path)
        }
        guard let result else { throw doesNotFit(I.self, value, at: path) }
        return result
    }

    static func floatingPoint<F: BinaryFloatingPoint>(_ value: JSONValue, at path: JSONValueCodingPath) throws -> F {
        switch value {
        case .int(let int): return F(int)
        case .double(let double):
            let result = F(double)
            guard result.isFinite || !double.isFinite else { throw doesNotFit(F.self, value, at: path) }
            return result
        case .null: throw valueNotFound(F.self, at: path)
        default: throw typeMismatch(F.self, value, at: path)
        }
    }

    private static func data(_ value: JSONValue, at path: JSONValueCodingPath) throws -> Data {
        guard let data = Data(base64Encoded: try string(value, at: path)) else {
            throw DecodingError.dataCorrupted(DecodingError.Context(codingPath: path.keys, debugDescription: "Encountered Data is not valid Base64."))
        }
        return data
    }

    private static func url(_ value: JSONValue, at path: JSONValueCodingPath) throws -> URL {
        guard let url = URL(string: try string(value, at: path)) else {
            throw DecodingError.dataCorrupted(DecodingError.Context(codingPath: path.keys, debugDescription: "Invalid URL string."))
        }
        return url
    }

    private static func decimal(_ value: JSONValue, at path: JSONValueCodingPath) throws -> Decimal {
        switch value {
        case .int(let int): return Decimal(int)
        case .double:
            guard let decimal = Decimal(string: value.numberText) else { throw doesNotFit(Decimal.self, value, at: path) }
            return decimal
        case .null: throw valueNotFound(Decimal.self, at: path)
        // JSONDecoder gives no description here.
        default: throw DecodingError.typeMismatch(Decimal.self, DecodingError.Context(codingPath: path.keys, debugDescription: ""))
        }
    }

    static func typeMismatch(_ type: Any.Type, _ value: JSONValue, at path: JSONValueCodingPath) -> DecodingError {
        let found = switch value {
        case .null: "null"
        case .bool: "bool"
        case .int, .double: "number"
        case .string: "a string"
        case .array: "an array"
        case .object: "a dictionary"
        }
        return DecodingError.typeMismatch(
            type, DecodingError.Context(codingPath: path.keys, debugDescription: "Expected to decode \(type) but found \(found) instead."))
    }

    static func valueNotFound(_ type: Any.Type, at path: JSONValueCodingPath) -> DecodingError {
        DecodingError.valueNotFound(
            type, DecodingError.Context(codingPath: path.keys, debugDescription: "Cannot get value of type \(type) -- found null value instead"))
    }

    static func doesNotFit(_ type: Any.Type, _ value: JSONValue, at path: JSONValueCodingPath) -> DecodingError {
        DecodingError.dataCorrupted(
            DecodingError.Context(codingPath: path.keys, debugDescription: "Parsed JSON number <\(value.numberText)> does not fit in \(type)."))
    }
}

struct JSONValueKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: [String: JSONValue]
    let path: JSONValueCodingPath

    var codingPath: [any CodingKey] { path.keys }
    var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

    private func value(for key: Key) throws -> JSONValue {
        guard let value = object[key.stringValue] else {
            throw DecodingError.keyNotFound(
                key, DecodingError.Context(codingPath: path.keys, debugDescription: "No value associated with key \(key) (\"\(key.stringValue)\")."))
        }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool { try value(for: key).isNull }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try JSONValueDecoderImpl.bool(value(for: key), at: path.appending(key)) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try JSONValueDecoderImpl.string(value(for: key), at: path.appending(key)) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try JSONValueDecoderImpl.floatingPoint(value(for: key), at: path.appending(key)) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try JSONValueDecoderImpl.floatingPoint(value(for: key), at: path.appending(key)) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try JSONValueDecoderImpl.integer(value(for: key), at: path.appending(key)) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try JSONValueDecoderImpl.integer(value(for: key), at: path.appending(key)) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try JSONValueDecoderImpl.integer(value(for: key), at: path.appending(key)) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try JSONValueDecoderImpl.integer(value(for: key), at: path.appending(key)) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try JSONValueDecoderImpl.integer(value(for: key), at: path.appending(key)) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try JSONValueDecoderImpl.integer(value(for: key), at: path.appending(key)) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try JSONValueDecoderImpl.integer(value(for: key), at: path.appending(key)) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try JSONValueDecoderImpl.integer(value(for: key), at: path.appending(key)) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try JSONValueDecoderImpl.integer(value(for: key), at: path.appending(key)) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try JSONValueDecoderImpl.integer(value(for: key), at: path.appending(key)) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try JSONValueDecoderImpl.unwrap(type, from: value(for: key), at: path.appending(key))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        let nestedPath = path.appending(key)
        let object = try JSONValueDecoderImpl.object(value(for: key), at: nestedPath)
        return KeyedDecodingContainer(JSONValueKeyedDecodingContainer<NestedKey>(object: object, path: nestedPath))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        let nestedPath = path.appending(key)
        return JSONValueUnkeyedDecodingContainer(array: try JSONValueDecoderImpl.array(value(for: key), at: nestedPath), path: nestedPath)
    }

    // Like JSONDecoder, a missing super key gives a decoder over null rather than an error.
    func superDecoder() throws -> any Decoder {
        JSONValueDecoderImpl(value: object[JSONValueCodingKey.super.stringValue] ?? .null, path: path.appending(JSONValueCodingKey.super))
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        JSONValueDecoderImpl(value: object[key.stringValue] ?? .null, path: path.appending(key))
    }
}

struct JSONValueUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let array: [JSONValue]
    let path: JSONValueCodingPath
    private(set) var currentIndex = 0

    init(array: [JSONValue], path: JSONValueCodingPath) {
        self.array = array
        self.path = path
    }

    var codingPath: [any CodingKey] { path.keys }
    var count: Int? { array.count }
    var isAtEnd: Bool { currentIndex >= array.count }

    private var currentPath: JSONValueCodingPath { path.appending(index: currentIndex) }

    /// The next element, or JSONDecoder's "at end" error naming what was asked for.
    private func peek(_ type: Any.Type) throws -> JSONValue {
        guard currentIndex < array.count else {
            let message = switch type {
            case is (any UnkeyedDecodingContainer).Type: "Cannot get nested unkeyed container -- unkeyed container is at end."
            case is (any Decoder).Type: "Cannot get superDecoder() -- unkeyed container is at end."
            default: "Unkeyed container is at end."
            }
            throw DecodingError.valueNotFound(type, DecodingError.Context(codingPath: currentPath.keys, debugDescription: message))
        }
        return array[currentIndex]
    }

    /// Decodes the next element and moves past it only when that succeeded, like JSONDecoder.
    private mutating func next<T>(_ type: T.Type, _ unwrap: (JSONValue, JSONValueCodingPath) throws -> T) throws -> T {
        let result = try unwrap(try peek(type), currentPath)
        currentIndex += 1
        return result
    }

    mutating func decodeNil() throws -> Bool {
        guard try peek(Never.self).isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type, JSONValueDecoderImpl.bool) }
    mutating func decode(_ type: String.Type) throws -> String { try next(type, JSONValueDecoderImpl.string) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(type, JSONValueDecoderImpl.floatingPoint) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next(type, JSONValueDecoderImpl.floatingPoint) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next(type, JSONValueDecoderImpl.integer) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next(type, JSONValueDecoderImpl.integer) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next(type, JSONValueDecoderImpl.integer) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next(type, JSONValueDecoderImpl.integer) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(type, JSONValueDecoderImpl.integer) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next(type, JSONValueDecoderImpl.integer) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(type, JSONValueDecoderImpl.integer) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(type, JSONValueDecoderImpl.integer) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(type, JSONValueDecoderImpl.integer) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(type, JSONValueDecoderImpl.integer) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try next(type) { value, path in try JSONValueDecoderImpl.unwrap(type, from: value, at: path) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next(KeyedDecodingContainer<NestedKey>.self) { value, path in
            KeyedDecodingContainer(JSONValueKeyedDecodingContainer<NestedKey>(object: try JSONValueDecoderImpl.object(value, at: path), path: path))
        }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next((any UnkeyedDecodingContainer).self) { value, path in
            JSONValueUnkeyedDecodingContainer(array: try JSONValueDecoderImpl.array(value, at: path), path: path)
        }
    }

    mutating func superDecoder() throws -> any Decoder {
        try next((any Decoder).self) { value, path in JSONValueDecoderImpl(value: value, path: path) }
    }
}
