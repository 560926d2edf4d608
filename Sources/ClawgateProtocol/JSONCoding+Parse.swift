import Foundation

extension JSONCoding {
    /// Parses JSON text into a `JSONValue` in one pass (`JSONValueParser`), without copying it
    /// first; input the parser leaves to `JSONDecoder` gets `JSONDecoder`'s result or error.
    public static func jsonValue(from bytes: UnsafeRawBufferPointer) throws -> JSONValue {
        if let value = JSONValueParser.parse(bytes) { return value }
        return try decode(JSONValue.self, from: Data(bytes))
    }

    /// `jsonValue(from:)` over a string's UTF-8.
    public static func jsonValue(from text: String) throws -> JSONValue {
        var text = text
        return try text.withUTF8 { try jsonValue(from: UnsafeRawBufferPointer($0)) }
    }

    /// `jsonValue(from:)` over `Data`.
    public static func jsonValue(from data: Data) throws -> JSONValue {
        try data.withUnsafeBytes { try jsonValue(from: $0) }
    }
}
