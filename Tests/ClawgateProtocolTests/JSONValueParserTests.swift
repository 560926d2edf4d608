import ClawgateProtocol
import Foundation
import Testing

/// The one-pass `JSONValue` parser must agree with `JSONDecoder` on every input: same value
/// where both accept, and `JSONDecoder`'s own error where the text is not valid JSON.
@Suite("JSONValue parsing")
struct JSONValueParserTests {
    enum Outcome: Equatable {
        case value(JSONValue)
        case error(String)
    }

    /// What `JSONDecoder` alone makes of `text` (the reference).
    func reference(_ text: String) -> Outcome {
        do {
            return .value(try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)))
        } catch {
            return .error(String(describing: error))
        }
    }

    /// What the parser path makes of it, through both entry points.
    func parsed(_ text: String) -> (Outcome, Outcome) {
        let viaData: Outcome
        do {
            viaData = .value(try JSONCoding.jsonValue(from: Data(text.utf8)))
        } catch {
            viaData = .error(String(describing: error))
        }
        let viaText: Outcome
        do {
            viaText = .value(try JSONCoding.jsonValue(from: text))
        } catch {
            viaText = .error(String(describing: error))
        }
        return (viaData, viaText)
    }

    @Test(arguments: [
        // Objects, arrays, nesting, whitespace.
        #"{"type":"res","id":"a-1","ok":true,"payload":{"ts":1763750000000,"list":[1,-2,3.5,"x",null,true,false,{}],"e":[]}}"#,
        " \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" : { } } \n",
        "[]", "{}", "[[[[]]]]", #"[{"a":[{"b":null}]}]"#,
        // Top-level fragments.
        "0", "-0", "17", "-17", "true", "false", "null", #""text""#,
        // Numbers: integers, Int limits and beyond, fractions, exponents, integral doubles.
        "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
        "12345678901234567890", "2.5", "-0.125", "2.0", "1e2", "1E-2", "1.5e300", "-1.5e-7", "0.1", "100.0", "1e400",
        // Strings: escapes, unicode, surrogate pairs, lone surrogates.
        #""a\"b\\c\/d\b\f\n\r\t""#, #""\u00e9\u4e2d\ud83d\ude00""#, #""é中😀""#, #""\ud800""#, #""\udc00x""#, #""\u0000""#,
        // Duplicate keys (JSONDecoder's choice stands).
        #"{"a":1,"a":2}"#,
        // Invalid JSON: must fail with JSONDecoder's error.
        "", " ", "{", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "-", "+1", "1e", "tru", "nul", "[1 2]", #"{"a" 1}"#,
        #"{a:1}"#, "\"unterminated", "\"tab\there\"", "[1]x", "{\"a\":1}}", #""\x""#, #""\u12""#, "NaN", "Infinity",
    ])
    func agreesWithJSONDecoder(text: String) {
        let expected = reference(text)
        let (viaData, viaText) = parsed(text)
        #expect(viaData == expected)
        #expect(viaText == expected)
    }

    @Test func deepNestingIsLeftToJSONDecoder() {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        let (viaData, viaText) = parsed(deep)
        let expected = reference(deep)
        #expect(viaData == expected)
        #expect(viaText == expected)
    }

    @Test func invalidUTF8IsLeftToJSONDecoder() throws {
        let bytes: [UInt8] = [UInt8(ascii: "\""), 0xC3, 0x28, UInt8(ascii: "\"")]
        let data = Data(bytes)
        let expected: Outcome
        do {
            expected = .value(try JSONDecoder().decode(JSONValue.self, from: data))
        } catch {
            expected = .error(String(describing: error))
        }
        let actual: Outcome
        do {
            actual = .value(try JSONCoding.jsonValue(from: data))
        } catch {
            actual = .error(String(describing: error))
        }
        #expect(actual == expected)
    }

    @Test func roundTripsEncodedValues() throws {
        let value: JSONValue = [
            "s": "quote \" backslash \\ newline \n tab \t unicode é 😀 control \u{01}", "i": 123_456_789_012, "n": -5,
            "d": 0.000123, "b": false, "z": nil, "a": [1, "two", [3.25], ["k": "v"]],
        ]
        let text = String(decoding: try JSONCoding.encode(value), as: UTF8.self)
        #expect(try JSONCoding.jsonValue(from: text) == value)
    }
}
