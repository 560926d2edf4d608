/// Writes a `JSONValue` as JSON text.
///
/// Every mesh row, RPC answer and push used to be written by `JSONEncoder`, which builds a tree
/// of its own and then serialises it; under mesh load that was about a fifth of the store
/// thread's time (perf, 16 pairs). `JSONValueEncoder` builds our tree several times faster, and
/// this writes it without another intermediate. Foundation offers no writer for a tree of our
/// own, hence this one.
///
/// The text is what `JSONEncoder` with `.withoutEscapingSlashes` writes for the same value
/// (numbers spelled as it spells them, the same escapes, keys in ascending order as with
/// `.sortedKeys`), except that an integral double within `Int` range is spelled as the integer
/// (`9.2e18` as `9200000000000000000`, `-0.0` as `0`): `JSONValueEncoder` has already made it
/// the `.int` that reading the text back gives, so every reader gets the same number.
public enum JSONValueWriter {
    /// Appends the JSON text of `value`; throws `EncodingError.invalidValue` for NaN and
    /// infinities, as `JSONEncoder` does.
    public static func write(_ value: JSONValue, into bytes: inout [UInt8]) throws {
        switch value {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .bool(let bool): bytes.append(contentsOf: bool ? "true".utf8 : "false".utf8)
        case .int(let int): writeInteger(int, into: &bytes)
        case .double(let double):
            guard double.isFinite else { throw JSONValue.nonFiniteError(double, at: .root) }
            bytes.append(contentsOf: JSONValue.double(double).numberText.utf8)
        case .string(let string): writeString(string, into: &bytes)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                try write(item, into: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object):
            bytes.append(UInt8(ascii: "{"))
            var first = true
            for key in object.keys.sorted() {
                if !first { bytes.append(UInt8(ascii: ",")) }
                first = false
                writeString(key, into: &bytes)
                bytes.append(UInt8(ascii: ":"))
                // The key came from this dictionary.
                if let item = object[key] { try write(item, into: &bytes) }
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// The JSON text of `value`.
    public static func bytes(of value: JSONValue) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        try write(value, into: &bytes)
        return bytes
    }

    static func writeInteger(_ value: Int, into bytes: inout [UInt8]) {
        if value == 0 {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        // Int.min has no positive counterpart: work with the magnitude.
        var magnitude = value.magnitude
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)  // 32 bytes on the stack
        var count = 0
        withUnsafeMutableBytes(of: &digits) { scratch in
            while magnitude > 0 {
                scratch[31 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
            bytes.append(contentsOf: scratch[(32 - count)...])
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// A string literal with `JSONEncoder`'s escapes: quote, backslash and the control
    /// characters (`\b \f \n \r \t` by name, the rest as `\u00XX`); everything else as is.
    static func writeString(_ string: String, into bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            var runStart = 0
            for index in utf8.indices {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                runStart = index + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                default:
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
