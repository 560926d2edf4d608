import Foundation

/// Encodes an `Encodable` value straight into a `JSONValue` tree.
///
/// `JSONCoding.value(of:)` used to write JSON text with `JSONEncoder` and parse it back into a
/// `JSONValue`; that double conversion ran for every event and mesh payload and was a large
/// share of the gateway's CPU time. No package available here (see
/// `swift-packages-b.md`) encodes into an in-memory JSON tree, so this one is hand-written.
///
/// The result is the value the old text round trip produced, for everything our types use:
/// - numbers as `JSONEncoder` writes and `JSONValue` reads them back (see
///   `JSONValueNumberText.swift`): integers and integral doubles within `Int` range become `.int`,
///   everything else `.double`; NaN and infinities throw the same `EncodingError`;
/// - `encodeIfPresent(nil)` leaves the key out, `encodeNil` writes `.null`;
/// - a nested value or `superEncoder` that encodes nothing becomes `{}`, a top-level one throws;
/// - `Data` as Base64, `URL` as its absolute string, `Decimal` as a number (JSONEncoder's
///   default strategies); `Date` through its own `Codable` (seconds since 2001, the default);
/// - a `JSONValue` is taken as is (normalised like text would: `.double(2)` becomes `.int(2)`).
///
/// Unlike `JSONEncoder`, which traps when an `encode(to:)` asks for a second, different kind of
/// container on one encoder, the later container replaces the earlier one: a programming error
/// in one payload must not take the gateway down.
public struct JSONValueEncoder: Sendable {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        if let special = try JSONValueEncoderImpl.specialValue(value, at: .root) { return special }
        let encoder = JSONValueEncoderImpl(path: .root)
        try value.encode(to: encoder)
        guard let result = encoder.result else {
            throw EncodingError.invalidValue(
                value, EncodingError.Context(codingPath: [], debugDescription: "Top-level \(T.self) did not encode any values."))
        }
        return result
    }
}

/// An object under construction. Plain values go straight into `values`; nested containers and
/// super-encoders may still be written to after they are handed out, so they stay references in
/// `pending` until the owning `encode(to:)` has returned.
final class JSONObjectBuilder {
    var values: [String: JSONValue] = [:]
    var pending: [String: JSONPendingValue] = [:]

    func set(_ value: JSONValue, for key: String) {
        values[key] = value
        if !pending.isEmpty { pending[key] = nil }
    }

    func setPending(_ value: JSONPendingValue, for key: String) {
        pending[key] = value
    }

    func build() -> JSONValue {
        guard !pending.isEmpty else { return .object(values) }
        var object = values
        for (key, value) in pending { object[key] = value.build() }
        return .object(object)
    }
}

/// An array under construction; see `JSONObjectBuilder`.
final class JSONArrayBuilder {
    var values: [JSONValue] = []
    var pending: [(index: Int, value: JSONPendingValue)] = []

    func append(_ value: JSONValue) { values.append(value) }

    func appendPending(_ value: JSONPendingValue) {
        pending.append((values.count, value))
        values.append(.null)
    }

    func build() -> JSONValue {
        guard !pending.isEmpty else { return .array(values) }
        var array = values
        for (index, value) in pending { array[index] = value.build() }
        return .array(array)
    }
}

/// A container or encoder handed out by a container, resolved when the tree is built.
enum JSONPendingValue {
    case object(JSONObjectBuilder)
    case array(JSONArrayBuilder)
    case encoder(JSONValueEncoderImpl)

    func build() -> JSONValue {
        switch self {
        case .object(let builder): builder.build()
        case .array(let builder): builder.build()
        // JSONEncoder writes an empty object for a super-encoder that encodes nothing.
        case .encoder(let encoder): encoder.result ?? .object([:])
        }
    }
}

final class JSONValueEncoderImpl: Encoder, SingleValueEncodingContainer {
    private enum Storage {
        case empty
        case value(JSONValue)
        case object(JSONObjectBuilder)
        case array(JSONArrayBuilder)
    }

    private var storage: Storage = .empty
    let path: JSONValueCodingPath

    init(path: JSONValueCodingPath) {
        self.path = path
    }

    var codingPath: [any CodingKey] { path.keys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// What was encoded, or nil when nothing was.
    var result: JSONValue? {
        switch storage {
        case .empty: nil
        case .value(let value): value
        case .object(let builder): builder.build()
        case .array(let builder): builder.build()
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let builder: JSONObjectBuilder
        if case .object(let existing) = storage {
            builder = existing
        } else {
            builder = JSONObjectBuilder()
            storage = .object(builder)
        }
        return KeyedEncodingContainer(JSONValueKeyedEncodingContainer<Key>(builder: builder, path: path))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let builder: JSONArrayBuilder
        if case .array(let existing) = storage {
            builder = existing
        } else {
            builder = JSONArrayBuilder()
            storage = .array(builder)
        }
        return JSONValueUnkeyedEncodingContainer(builder: builder, path: path)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { self }

    // MARK: SingleValueEncodingContainer

    func encodeNil() throws { storage = .value(.null) }
    func encode(_ value: Bool) throws { storage = .value(.bool(value)) }
    func encode(_ value: String) throws { storage = .value(.string(value)) }
    func encode(_ value: Double) throws { storage = .value(try Self.number(value, at: path)) }
    func encode(_ value: Float) throws { storage = .value(try Self.number(value, at: path)) }
    func encode(_ value: Int) throws { storage = .value(.int(value)) }
    func encode(_ value: Int8) throws { storage = .value(Self.number(value)) }
    func encode(_ value: Int16) throws { storage = .value(Self.number(value)) }
    func encode(_ value: Int32) throws { storage = .value(Self.number(value)) }
    func encode(_ value: Int64) throws { storage = .value(Self.number(value)) }
    func encode(_ value: UInt) throws { storage = .value(Self.number(value)) }
    func encode(_ value: UInt8) throws { storage = .value(Self.number(value)) }
    func encode(_ value: UInt16) throws { storage = .value(Self.number(value)) }
    func encode(_ value: UInt32) throws { storage = .value(Self.number(value)) }
    func encode(_ value: UInt64) throws { storage = .value(Self.number(value)) }
    func encode<T: Encodable>(_ value: T) throws { storage = .value(try Self.wrap(value, at: path)) }

    // MARK: Conversions shared by the containers

    /// Encodes a nested value: specials directly, everything else through its `encode(to:)`.
    static func wrap<T: Encodable>(_ value: T, at path: JSONValueCodingPath) throws -> JSONValue {
        if let special = try specialValue(value, at: path) { return special }
        let encoder = JSONValueEncoderImpl(path: path)
        try value.encode(to: encoder)
        // JSONEncoder writes an empty object for a nested value that encodes nothing.
        return encoder.result ?? .object([:])
    }

    /// The types `JSONEncoder` does not encode through their own `encode(to:)`, plus `JSONValue`.
    /// Compares metatypes first so that ordinary values pay no dynamic cast.
    static func specialValue<T: Encodable>(_ value: T, at path: JSONValueCodingPath) throws -> JSONValue? {
        if T.self == JSONValue.self, let json = value as? JSONValue { return try json.normalizedAsJSONText(at: path) }
        if T.self == Data.self, let data = value as? Data { return .string(data.base64EncodedString()) }
        if T.self == URL.self, let url = value as? URL { return .string(url.absoluteString) }
        if T.self == Decimal.self, let decimal = value as? Decimal { return decimalNumber(decimal) }
        return nil
    }

    /// An integer as it reads back from JSON text: `.int` when it fits, else the nearest double
    /// (`JSONValue` reads a larger integer such as `UInt64.max` as a double).
    static func number<I: BinaryInteger>(_ value: I) -> JSONValue {
        if let int = Int(exactly: value) { return .int(int) }
        return .double(Double(value))
    }

    static func number(_ value: Double, at path: JSONValueCodingPath) throws -> JSONValue {
        try JSONValue.number(value, at: path)
    }

    static func number(_ value: Float, at path: JSONValueCodingPath) throws -> JSONValue {
        try JSONValue.number(value, at: path)
    }

    /// A decimal as it reads back from JSON text: JSONEncoder writes its description as a number.
    private static func decimalNumber(_ value: Decimal) -> JSONValue {
        let text = value.description
        if let int = Int(text) { return .int(int) }
        if let int = JSONValue.integer(ofNumberText: text, as: Int.self) { return .int(int) }
        return Double(text).map(JSONValue.double) ?? .string(text)
    }
}

struct JSONValueKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let builder: JSONObjectBuilder
    let path: JSONValueCodingPath

    var codingPath: [any CodingKey] { path.keys }

    mutating func encodeNil(forKey key: Key) throws { builder.set(.null, for: key.stringValue) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { builder.set(.bool(value), for: key.stringValue) }
    mutating func encode(_ value: String, forKey key: Key) throws { builder.set(.string(value), for: key.stringValue) }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        builder.set(try JSONValueEncoderImpl.number(value, at: path.appending(key)), for: key.stringValue)
    }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        builder.set(try JSONValueEncoderImpl.number(value, at: path.appending(key)), for: key.stringValue)
    }
    mutating func encode(_ value: Int, forKey key: Key) throws { builder.set(.int(value), for: key.stringValue) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { builder.set(JSONValueEncoderImpl.number(value), for: key.stringValue) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { builder.set(JSONValueEncoderImpl.number(value), for: key.stringValue) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { builder.set(JSONValueEncoderImpl.number(value), for: key.stringValue) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { builder.set(JSONValueEncoderImpl.number(value), for: key.stringValue) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { builder.set(JSONValueEncoderImpl.number(value), for: key.stringValue) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { builder.set(JSONValueEncoderImpl.number(value), for: key.stringValue) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { builder.set(JSONValueEncoderImpl.number(value), for: key.stringValue) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { builder.set(JSONValueEncoderImpl.number(value), for: key.stringValue) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { builder.set(JSONValueEncoderImpl.number(value), for: key.stringValue) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        builder.set(try JSONValueEncoderImpl.wrap(value, at: path.appending(key)), for: key.stringValue)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let nested: JSONObjectBuilder
        if case .object(let existing) = builder.pending[key.stringValue] {
            nested = existing
        } else {
            nested = JSONObjectBuilder()
            builder.setPending(.object(nested), for: key.stringValue)
        }
        return KeyedEncodingContainer(JSONValueKeyedEncodingContainer<NestedKey>(builder: nested, path: path.appending(key)))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested: JSONArrayBuilder
        if case .array(let existing) = builder.pending[key.stringValue] {
            nested = existing
        } else {
            nested = JSONArrayBuilder()
            builder.setPending(.array(nested), for: key.stringValue)
        }
        return JSONValueUnkeyedEncodingContainer(builder: nested, path: path.appending(key))
    }

    mutating func superEncoder() -> any Encoder {
        superEncoder(key: JSONValueCodingKey.super)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        superEncoder(key: key)
    }

    private func superEncoder(key: any CodingKey) -> any Encoder {
        let encoder = JSONValueEncoderImpl(path: path.appending(key))
        builder.setPending(.encoder(encoder), for: key.stringValue)
        return encoder
    }
}

struct JSONValueUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let builder: JSONArrayBuilder
    let path: JSONValueCodingPath

    var codingPath: [any CodingKey] { path.keys }
    var count: Int { builder.values.count }

    private var nextPath: JSONValueCodingPath { path.appending(index: builder.values.count) }

    mutating func encodeNil() throws { builder.append(.null) }
    mutating func encode(_ value: Bool) throws { builder.append(.bool(value)) }
    mutating func encode(_ value: String) throws { builder.append(.string(value)) }
    mutating func encode(_ value: Double) throws { builder.append(try JSONValueEncoderImpl.number(value, at: nextPath)) }
    mutating func encode(_ value: Float) throws { builder.append(try JSONValueEncoderImpl.number(value, at: nextPath)) }
    mutating func encode(_ value: Int) throws { builder.append(.int(value)) }
    mutating func encode(_ value: Int8) throws { builder.append(JSONValueEncoderImpl.number(value)) }
    mutating func encode(_ value: Int16) throws { builder.append(JSONValueEncoderImpl.number(value)) }
    mutating func encode(_ value: Int32) throws { builder.append(JSONValueEncoderImpl.number(value)) }
    mutating func encode(_ value: Int64) throws { builder.append(JSONValueEncoderImpl.number(value)) }
    mutating func encode(_ value: UInt) throws { builder.append(JSONValueEncoderImpl.number(value)) }
    mutating func encode(_ value: UInt8) throws { builder.append(JSONValueEncoderImpl.number(value)) }
    mutating func encode(_ value: UInt16) throws { builder.append(JSONValueEncoderImpl.number(value)) }
    mutating func encode(_ value: UInt32) throws { builder.append(JSONValueEncoderImpl.number(value)) }
    mutating func encode(_ value: UInt64) throws { builder.append(JSONValueEncoderImpl.number(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { builder.append(try JSONValueEncoderImpl.wrap(value, at: nextPath)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = JSONObjectBuilder()
        let nestedPath = nextPath
        builder.appendPending(.object(nested))
        return KeyedEncodingContainer(JSONValueKeyedEncodingContainer<NestedKey>(builder: nested, path: nestedPath))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = JSONArrayBuilder()
        let nestedPath = nextPath
        builder.appendPending(.array(nested))
        return JSONValueUnkeyedEncodingContainer(builder: nested, path: nestedPath)
    }

    mutating func superEncoder() -> any Encoder {
        let encoder = JSONValueEncoderImpl(path: nextPath)
        builder.appendPending(.encoder(encoder))
        return encoder
    }
}
