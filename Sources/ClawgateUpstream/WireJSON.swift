import ClawgateProtocol

/// A JSON value with ordered object keys, serialized by hand.
///
/// Responses are built on the benchmark's hot path and are small, so writing them directly is
/// cheaper than a `JSONEncoder` round trip; keeping keys in the order the providers document
/// makes captured traffic easy to compare with the real APIs.
enum WireJSON {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([WireJSON])
    case object([(String, WireJSON)])

    /// Converts a parsed value; object keys are sorted so the output is deterministic.
    init(_ value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool(let value): self = .bool(value)
        case .int(let value): self = .int(value)
        case .double(let value): self = .double(value)
        case .string(let value): self = .string(value)
        case .array(let values): self = .array(values.map(WireJSON.init))
        case .object(let object):
            self = .object(object.keys.sorted().compactMap { key in object[key].map { (key, WireJSON($0)) } })
        }
    }

    /// `value` as a string, or `null` when absent.
    static func optional(_ value: String?) -> WireJSON {
        value.map(WireJSON.string) ?? .null
    }

    var serialized: String {
        var out = ""
        out.reserveCapacity(256)
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .double(let value): out += value.isFinite ? "\(value)" : "null"
        case .string(let value): Self.writeString(value, to: &out)
        case .array(let values):
            out += "["
            for (index, value) in values.enumerated() {
                if index > 0 { out += "," }
                value.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { out += "," }
                Self.writeString(member.0, to: &out)
                out += ":"
                member.1.write(to: &out)
            }
            out += "}"
        }
    }

    /// Writes a JSON string literal, escaping quotes, backslashes and control characters.
    static func writeString(_ value: String, to out: inout String) {
        out += "\""
        // Fast path: nothing to escape (the common case for model text).
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += value
            out += "\""
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

extension WireJSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int) { self = .int(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(arrayLiteral elements: WireJSON...) { self = .array(elements) }
    /// Keeps the literal's key order.
    init(dictionaryLiteral elements: (String, WireJSON)...) { self = .object(elements) }
    init(nilLiteral: ()) { self = .null }
}
