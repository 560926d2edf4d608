import ClawgateProtocol
import Foundation

/// Typed reads of seed fields beyond ClawLink's strings, with errors naming the field.
extension ClawLinkBody {
    /// An optional whole number (`3` or `3.0`); nil when absent or null.
    func integer(_ key: String) throws(ClawLinkError) -> Int? {
        guard let value = value(key) else { return nil }
        guard let number = value.intValue else { throw ClawLinkError.badRequest("\(key) must be a whole number, not \(value.typeName)") }
        return number
    }

    /// An optional number, rounded to the nearest whole number (progress percentages).
    func roundedNumber(_ key: String) throws(ClawLinkError) -> Int? {
        guard let value = value(key) else { return nil }
        switch value {
        case .int(let number): return number
        case .double(let number) where number.isFinite && abs(number) < 1e15: return Int(number.rounded())
        default: throw ClawLinkError.badRequest("\(key) must be a number, not \(value.typeName)")
        }
    }

    /// An optional object, as a body of its own.
    func object(_ key: String) throws(ClawLinkError) -> ClawLinkBody? {
        guard let value = value(key) else { return nil }
        guard case .object(let fields) = value else { throw ClawLinkError.badRequest("\(key) must be an object, not \(value.typeName)") }
        return ClawLinkBody(fields: fields)
    }

    /// The first of `keys` that is present (aliases: `to_agent` / `target_agent`).
    func string(anyOf keys: [String]) throws(ClawLinkError) -> String? {
        for key in keys {
            if let text = try string(key) { return text }
        }
        return nil
    }

    /// A time as an ISO 8601 string (`2026-02-15T16:00:00Z`, fractional seconds and offsets
    /// allowed) or epoch milliseconds, in epoch milliseconds.
    func time(_ key: String) throws(ClawLinkError) -> Int? {
        guard let value = value(key) else { return nil }
        switch value {
        case .int(let ms): return ms
        case .double(let ms) where ms.isFinite && abs(ms) < 9e15: return Int(ms.rounded())
        case .string(let text):
            if let ms = Int(text) { return ms }
            if let date = Self.parseISO(text) { return Int((date.timeIntervalSince1970 * 1000).rounded()) }
            throw ClawLinkError.badRequest("\(key) must be an ISO 8601 time (2026-02-15T16:00:00Z) or epoch milliseconds, not \(text)")
        default:
            throw ClawLinkError.badRequest("\(key) must be an ISO 8601 time or epoch milliseconds, not \(value.typeName)")
        }
    }

    private static func parseISO(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
