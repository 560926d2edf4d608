/// Parses JSON text into a `JSONValue` in one pass.
///
/// Why hand-written: `JSONDecoder` can only build an open `JSONValue` by trial and error (is it
/// a Bool? an Int? …), and every failed attempt throws a `DecodingError` with a formatted
/// message. That made a 500-byte frame cost ~200 µs, the largest share of a WebSocket round trip
/// on both ends. No library in the stack parses JSON into an untyped tree.
///
/// It is deliberately no more lenient than `JSONDecoder`: for input it is unsure about (invalid
/// JSON, duplicate keys, invalid UTF-8, numbers whose `Int`/`Double` reading `JSONDecoder`
/// decides differently, deep nesting) it gives up with `nil`, and `JSONCoding` then decodes the
/// same bytes with `JSONDecoder`, so results and error messages stay exactly those of `JSONDecoder`.
enum JSONValueParser {
    static let maxDepth = 256

    /// The value of `bytes`, or nil when `JSONDecoder` must decide.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> JSONValue? {
        var reader = Reader(bytes: bytes)
        reader.skipWhitespace()
        guard let value = reader.value(depth: 0) else { return nil }
        reader.skipWhitespace()
        // Not a ternary: `nil` there would read as `JSONValue.null` (ExpressibleByNilLiteral).
        guard reader.atEnd else { return nil }
        return value
    }

    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
        }

        var atEnd: Bool { index >= bytes.count }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x0A, 0x0D, 0x09: index += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) -> JSONValue? {
            guard index < bytes.count, depth < JSONValueParser.maxDepth else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "{"): return object(depth: depth)
            case UInt8(ascii: "["): return array(depth: depth)
            case UInt8(ascii: "\""): return string().map(JSONValue.string)
            case UInt8(ascii: "t"): return literal("true", .bool(true))
            case UInt8(ascii: "f"): return literal("false", .bool(false))
            case UInt8(ascii: "n"): return literal("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
            default: return nil
            }
        }

        private mutating func literal(_ text: StaticString, _ value: JSONValue) -> JSONValue? {
            let count = text.utf8CodeUnitCount
            guard bytes.count - index >= count else { return nil }
            for offset in 0..<count where bytes[index + offset] != text.utf8Start[offset] { return nil }
            index += count
            return value
        }

        private mutating func object(depth: Int) -> JSONValue? {
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object([:])
            }
            // Members are collected first so the dictionary is built once at its final size.
            var members: [(String, JSONValue)] = []
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let key = string() else { return nil }
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                index += 1
                skipWhitespace()
                guard let member = value(depth: depth + 1) else { return nil }
                members.append((key, member))
                skipWhitespace()
                guard index < bytes.count else { return nil }
                switch bytes[index] {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "}"):
                    index += 1
                    var object = [String: JSONValue](minimumCapacity: members.count)
                    for (key, member) in members {
                        // Which duplicate wins is JSONDecoder's business.
                        guard object.updateValue(member, forKey: key) == nil else { return nil }
                    }
                    return .object(object)
                default: return nil
                }
            }
        }

        private mutating func array(depth: Int) -> JSONValue? {
            index += 1
            var elements: [JSONValue] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            while true {
                skipWhitespace()
                guard let element = value(depth: depth + 1) else { return nil }
                elements.append(element)
                skipWhitespace()
                guard index < bytes.count else { return nil }
                switch bytes[index] {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "]"):
                    index += 1
                    return .array(elements)
                default: return nil
                }
            }
        }

        /// A string starting at the opening quote; nil for control characters, bad escapes,
        /// unpaired surrogates or invalid UTF-8.
        private mutating func string() -> String? {
            index += 1
            let start = index
            var ascii = true
            // Fast path: no escapes, the bytes are the string.
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
                    index += 1
                    // ASCII needs no validation; anything else must be valid UTF-8 (no repair).
                    return ascii ? String(decoding: raw.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
                        : String(validating: raw, as: UTF8.self)
                }
                if byte == UInt8(ascii: "\\") { break }
                if byte < 0x20 { return nil }
                if byte >= 0x80 { ascii = false }
                index += 1
            }
            guard index < bytes.count else { return nil }
            var decoded = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return String(validating: decoded, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    index += 1
                    guard index < bytes.count else { return nil }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
                    case UInt8(ascii: "b"): decoded.append(0x08)
                    case UInt8(ascii: "f"): decoded.append(0x0C)
                    case UInt8(ascii: "n"): decoded.append(0x0A)
                    case UInt8(ascii: "r"): decoded.append(0x0D)
                    case UInt8(ascii: "t"): decoded.append(0x09)
                    case UInt8(ascii: "u"):
                        guard let scalar = unicodeEscape() else { return nil }
                        decoded.append(contentsOf: String(Character(scalar)).utf8)
                    default: return nil
                    }
                default:
                    if byte < 0x20 { return nil }
                    decoded.append(byte)
                    index += 1
                }
            }
            return nil
        }

        /// The scalar of `XXXX` (after `\u`), joining a surrogate pair.
        private mutating func unicodeEscape() -> Unicode.Scalar? {
            guard let high = hex4() else { return nil }
            switch high {
            case 0xD800...0xDBFF:
                guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                    return nil
                }
                index += 2
                guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return nil }
                return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
            case 0xDC00...0xDFFF:
                return nil
            default:
                return Unicode.Scalar(high)
            }
        }

        private mutating func hex4() -> UInt32? {
            guard bytes.count - index >= 4 else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt32(digit)
                index += 1
            }
            return value
        }

        /// A number per the JSON grammar: integers that fit `Int` become `.int`, non-integral
        /// values `.double`; integral values written with a fraction or exponent, and integers
        /// beyond `Int`, are left to JSONDecoder.
        private mutating func number() -> JSONValue? {
            let start = index
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count else { return nil }
            // Integer part: 0, or a non-zero digit then digits.
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
            } else {
                guard isDigit(at: index) else { return nil }
                while isDigit(at: index) { index += 1 }
            }
            var integral = true
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                integral = false
                index += 1
                guard isDigit(at: index) else { return nil }
                while isDigit(at: index) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                integral = false
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard isDigit(at: index) else { return nil }
                while isDigit(at: index) { index += 1 }
            }
            let text = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
            if integral {
                return Self.integer(text).map(JSONValue.int)
            }
            guard let value = Double(String(decoding: text, as: UTF8.self)), value.isFinite, value.rounded() != value else {
                return nil
            }
            return .double(value)
        }

        private func isDigit(at position: Int) -> Bool {
            position < bytes.count && bytes[position] >= UInt8(ascii: "0") && bytes[position] <= UInt8(ascii: "9")
        }

        /// An optionally negative run of digits as `Int`; nil on overflow.
        private static func integer(_ text: UnsafeRawBufferPointer) -> Int? {
            var index = 0
            let negative = text.first == UInt8(ascii: "-")
            if negative { index = 1 }
            var value = 0
            while index < text.count {
                let digit = Int(text[index] - UInt8(ascii: "0"))
                let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (next, overflow2) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
                if overflow1 || overflow2 { return nil }
                value = next
                index += 1
            }
            return value
        }
    }
}
