import Foundation

/// Conversions between `JSONValue`, `Codable` types and bytes, with error messages that name the
/// offending field, because protocol errors are read by people debugging their clients.
public enum JSONCoding {
    /// JSON text of `value`. Without `sortedKeys` (the wire and the mesh store) it goes through
    /// `JSONValueEncoder` and `JSONValueWriter`, several times faster than `JSONEncoder`, with
    /// object keys in ascending order; `sortedKeys` (files people read, audit lines) keeps
    /// `JSONEncoder`'s own sorted output, byte for byte as before.
    public static func encode<T: Encodable>(_ value: T, sortedKeys: Bool = false) throws -> Data {
        if sortedKeys {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return try encoder.encode(value)
        }
        return Data(try encodeBytes(value))
    }

    /// JSON text of `value` as bytes (see `encode`), for callers that copy it into a buffer anyway.
    public static func encodeBytes<T: Encodable>(_ value: T) throws -> [UInt8] {
        try JSONValueWriter.bytes(of: try Self.value(of: value))
    }

    /// JSON text of `value` as a string (see `encode`), e.g. for a database column.
    public static func encodeText<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encodeBytes(value), as: UTF8.self)
    }

    /// Decodes JSON text: parsed in one pass (`JSONValueParser`) and decoded from the tree
    /// (`JSONValueDecoder`), several times faster than `JSONDecoder` and with its errors (except
    /// for a number that does not fit its type, see `JSONValueDecoder`); text the parser leaves
    /// to `JSONDecoder` (invalid JSON, duplicate keys, deep nesting…) goes to `JSONDecoder`, so
    /// what is accepted and how it is refused stay `JSONDecoder`'s.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try data.withUnsafeBytes { try decode(type, from: $0) }
    }

    /// `decode(_:from: Data)` over bytes in place (a `ByteBuffer`'s), copied only for `JSONDecoder`.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) throws -> T {
        guard let parsed = JSONValueParser.parse(bytes) else { return try JSONDecoder().decode(type, from: Data(bytes)) }
        return try JSONValueDecoder().decode(type, from: parsed)
    }

    /// Converts any encodable value into a `JSONValue`, directly (no JSON text in between); the
    /// result is what writing and re-reading JSON text would give.
    public static func value<T: Encodable>(of encodable: T) throws -> JSONValue {
        if let value = encodable as? JSONValue { return value }
        return try JSONValueEncoder().encode(encodable)
    }

    /// Decodes a typed value out of a `JSONValue`, directly (no JSON text in between), with the
    /// errors `JSONDecoder` would give for the same value's text.
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try JSONValueDecoder().decode(type, from: value)
    }

    /// Describes a decoding error as `path: problem`, e.g. `client.id: expected a string`.
    public static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return String(describing: error) }
        func path(_ codingPath: [any CodingKey]) -> String {
            let joined = codingPath.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue }
                .joined(separator: ".")
                .replacingOccurrences(of: ".[", with: "[")
            return joined.isEmpty ? "<root>" : joined
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return parent == "<root>" ? "missing required property '\(key.stringValue)'"
                : "\(parent): missing required property '\(key.stringValue)'"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(jsonTypeName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(jsonTypeName(type)), got null"
        case .dataCorrupted(let context):
            let where_ = path(context.codingPath)
            let detail = context.debugDescription
            return where_ == "<root>" ? detail : "\(where_): \(detail)"
        @unknown default:
            return String(describing: error)
        }
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Double.Type, is Int64.Type: return "a number"
        case is Bool.Type: return "a boolean"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") || name.hasPrefix("[") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "a value of type \(name)"
        }
    }
}
