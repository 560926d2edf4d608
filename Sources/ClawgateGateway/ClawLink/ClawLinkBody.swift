import ClawgateProtocol
import Foundation
import Hummingbird
import NIOCore

/// A ClawLink request body: one JSON object of at most 1 MiB (the relay's aiohttp limit), with
/// accessors whose errors name the field. Invalid JSON is a 400, never a 500.
struct ClawLinkBody: Sendable {
    static let maxBytes = 1 << 20

    let fields: [String: JSONValue]

    init(fields: [String: JSONValue]) {
        self.fields = fields
    }

    /// Reads and parses the body of `request`: 413 past `maxBytes`, 400 for anything that is not
    /// a JSON object. An empty body counts as `{}`.
    static func read(_ request: Request) async throws(ClawLinkError) -> ClawLinkBody {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > maxBytes {
            throw tooLarge
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBytes)
        } catch is NIOTooManyBytesError {
            throw tooLarge
        } catch {
            throw ClawLinkError.badRequest("could not read the request body")
        }
        return try parse(Data(buffer.readableBytesView))
    }

    static func parse(_ data: Data) throws(ClawLinkError) -> ClawLinkBody {
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return ClawLinkBody(fields: [:]) }
        let value: JSONValue
        do {
            value = try JSONCoding.decode(JSONValue.self, from: data)
        } catch {
            throw ClawLinkError.badRequest("invalid JSON: \(describe(error))")
        }
        guard case .object(let fields) = value else {
            throw ClawLinkError.badRequest("invalid JSON: the body must be a JSON object, not \(value.typeName == "array" ? "an" : "a") \(value.typeName)")
        }
        return ClawLinkBody(fields: fields)
    }

    static let tooLarge = ClawLinkError(.contentTooLarge, "request body is larger than \(maxBytes) bytes")

    private static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            let underlying = (context.underlyingError as? NSError)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return underlying ?? context.debugDescription
        }
        return JSONCoding.describe(error)
    }

    // MARK: fields

    /// A present, non-null value.
    func value(_ key: String) -> JSONValue? {
        guard let value = fields[key], !value.isNull else { return nil }
        return value
    }

    /// An optional string; nil when absent, null or empty.
    func string(_ key: String) throws(ClawLinkError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw ClawLinkError.badRequest("\(key) must be a string, not \(value.typeName)") }
        return text.isEmpty ? nil : text
    }

    /// A list of strings; a comma-separated string is accepted too (`--caps a,b`).
    func strings(_ key: String) throws(ClawLinkError) -> [String] {
        guard let value = value(key) else { return [] }
        switch value {
        case .string(let text):
            return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        case .array(let items):
            var result: [String] = []
            for item in items {
                guard case .string(let text) = item else { throw ClawLinkError.badRequest("\(key) must be a list of strings") }
                result.append(text)
            }
            return result
        default:
            throw ClawLinkError.badRequest("\(key) must be a list of strings, not \(value.typeName)")
        }
    }
}
