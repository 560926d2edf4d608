import Foundation

/// What values become on a trip through JSON text, which `JSONValueEncoder` and
/// `JSONValueDecoder` reproduce without writing the text.
///
/// `JSONEncoder` writes a double by its shortest decimal spelling (`2.0` as `2`, `9.2e18` as
/// `9.2e+18`) and `JSONDecoder` reads a number into an integer type when that spelling denotes
/// an integer in range, exactly (so `4.453225810008095e+18` reads as `4453225810008095000`,
/// not as the double's binary value). `JSONValue` tries `Int` before `Double`, so integral
/// doubles within `Int` range come back as `.int`.
extension JSONValue {
    /// This value as it reads back after a trip through JSON text; refuses NaN and infinities as
    /// `JSONEncoder` does. Returns `self` untouched (no copy) when nothing changes, the usual case.
    func normalizedAsJSONText(at path: JSONValueCodingPath) throws -> JSONValue {
        guard needsNormalization else { return self }
        switch self {
        case .double(let double):
            return try JSONValue.number(double, at: path)
        case .array(let items):
            var normalized: [JSONValue] = []
            normalized.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                normalized.append(try item.normalizedAsJSONText(at: path.appending(index: index)))
            }
            return .array(normalized)
        case .object(let object):
            var normalized: [String: JSONValue] = [:]
            normalized.reserveCapacity(object.count)
            for (key, item) in object {
                normalized[key] = try item.normalizedAsJSONText(at: path.appending(JSONValueCodingKey(objectKey: key)))
            }
            return .object(normalized)
        case .null, .bool, .int, .string:
            return self
        }
    }

    private var needsNormalization: Bool {
        switch self {
        case .double(let double): return !double.isFinite || Self.textInteger(of: double, as: Int.self) != nil
        case .array(let items): return items.contains { $0.needsNormalization }
        case .object(let object): return object.values.contains { $0.needsNormalization }
        case .null, .bool, .int, .string: return false
        }
    }

    /// A double as it reads back from its JSON text.
    static func number(_ double: Double, at path: JSONValueCodingPath) throws -> JSONValue {
        guard double.isFinite else { throw nonFiniteError(double, at: path) }
        return textInteger(of: double, as: Int.self).map(JSONValue.int) ?? .double(double)
    }

    /// A float as it reads back from its JSON text, which spells it by its shortest decimal
    /// (`1.1`, not the widened `1.100000023841858`).
    static func number(_ float: Float, at path: JSONValueCodingPath) throws -> JSONValue {
        guard float.isFinite else { throw nonFiniteError(float, at: path) }
        if float.rounded(.towardZero) == float, float.magnitude < 16_777_216 { return .int(Int(float)) }
        let text = float.description
        if let int = integer(ofNumberText: text, as: Int.self) { return .int(int) }
        return .double(Double(text) ?? Double(float))
    }

    /// The integer of type `I` that `JSONDecoder` reads from this double's JSON text, if any.
    static func textInteger<I: FixedWidthInteger>(of double: Double, as type: I.Type) -> I? {
        guard double.isFinite, double.rounded(.towardZero) == double else { return nil }
        // Below 2^53 the shortest spelling of an integral double is the integer itself.
        if double.magnitude < 9_007_199_254_740_992 { return I(exactly: double) }
        return integer(ofNumberText: double.description, as: I.self)
    }

    /// The exact integer a decimal number spelling (`-12`, `2.50`, `4.4532e+18`) denotes, when it
    /// is an integer that fits `I`.
    static func integer<I: FixedWidthInteger>(ofNumberText text: String, as type: I.Type) -> I? {
        var digits: [UInt8] = []
        var negative = false
        var fractionDigits = 0
        var exponent = 0
        var exponentNegative = false
        var part = 0  // 0: integer part, 1: fraction, 2: exponent
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "-"): if part == 2 { exponentNegative = true } else { negative = true }
            case UInt8(ascii: "+"): continue
            case UInt8(ascii: "."): part = 1
            case UInt8(ascii: "e"), UInt8(ascii: "E"): part = 2
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let digit = byte - UInt8(ascii: "0")
                if part == 2 {
                    guard exponent < 10_000 else { return nil }
                    exponent = exponent * 10 + Int(digit)
                } else {
                    digits.append(digit)
                    if part == 1 { fractionDigits += 1 }
                }
            default: return nil
            }
        }
        var scale = (exponentNegative ? -exponent : exponent) - fractionDigits
        while let last = digits.last, last == 0, digits.count > 1 {
            digits.removeLast()
            scale += 1
        }
        var magnitude: UInt64 = 0
        for digit in digits {
            let (shifted, overflow) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, carry) = shifted.addingReportingOverflow(UInt64(digit))
            guard !overflow, !carry else { return nil }
            magnitude = sum
        }
        if magnitude == 0 { return 0 }
        guard scale >= 0 else { return nil }
        for _ in 0..<scale {
            let (shifted, overflow) = magnitude.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            magnitude = shifted
        }
        guard negative else { return I(exactly: magnitude) }
        guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
        return I(exactly: magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude))
    }

    /// `JSONEncoder`'s refusal of NaN and infinities (its default `nonConformingFloatEncodingStrategy`).
    static func nonFiniteError<F: BinaryFloatingPoint>(_ value: F, at path: JSONValueCodingPath) -> EncodingError {
        EncodingError.invalidValue(
            value, EncodingError.Context(codingPath: path.keys, debugDescription: "Unable to encode \(F.self).\(value) directly in JSON."))
    }

    /// The JSON text of a number, as `JSONEncoder` writes it (`2.0` as `2`), for error messages.
    var numberText: String {
        switch self {
        case .int(let int): return String(int)
        case .double(let double):
            let text = double.description
            return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
        default: return typeName
        }
    }
}
