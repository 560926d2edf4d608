import ClawgateProtocol
import Foundation
import Testing

/// `JSONCoding.encode` (JSONValueEncoder + JSONValueWriter) must write what `JSONEncoder` with
/// `[.sortedKeys, .withoutEscapingSlashes]` writes, byte for byte, for every value our types
/// produce: the same numbers, the same escapes, keys in ascending order.
@Suite("JSONValue writing")
struct JSONValueWriterTests {
    /// The reference text.
    func foundation<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    func ours<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try JSONCoding.encode(value), as: UTF8.self)
    }

    struct Record: Codable {
        var name: String
        var count: Int
        var ratio: Double
        var tags: [String]
        var nested: [String: Int]
        var missing: String?
        var present: Bool?
        var payload: JSONValue
    }

    @Test(arguments: [
        "", "plain", "quote \" and backslash \\", "slash / stays", "line\nbreak\ttab\rreturn",
        "\u{8}\u{c}", "\u{0}\u{1}\u{1f}\u{7f}", "unicode é ✓ 🎉", "\u{2028}\u{2029}", "ends with escape\n",
    ])
    func stringsMatchFoundation(_ string: String) throws {
        #expect(try ours(string) == foundation(string))
        #expect(try ours([string: string]) == foundation([string: string]))
    }

    @Test(arguments: [
        0.0, -0.0, 1.0, -2.5, 0.1, 1e-7, 123456.789, 1e21, 9.2e18, -9.2e18, 4.453225810008095e+18, Double.ulpOfOne,
        Double.greatestFiniteMagnitude, Double.leastNonzeroMagnitude, 3.0e-5,
    ])
    func doublesMatchFoundation(_ double: Double) throws {
        // A typed integral double within Int range becomes an integer in the tree (what reading
        // the text back gives), so it is spelled as one: 9.2e18 as 9200000000000000000, -0.0 as
        // 0. Everything reads back the same; the other spellings are Foundation's, byte for byte.
        let integral = double.rounded(.towardZero) == double && Int(exactly: double) != nil
        for text in [try ours(double), try ours(JSONValue.double(double))] {
            #expect(try JSONCoding.jsonValue(from: text) == JSONCoding.jsonValue(from: foundation(double)))
            #expect(try JSONDecoder().decode(Double.self, from: Data(text.utf8)) == double)
            if !integral { #expect(text == (try foundation(double))) }
        }
    }

    @Test(arguments: [0, 1, -1, 42, Int.max, Int.min, 1_000_000_007, -987_654_321])
    func integersMatchFoundation(_ int: Int) throws {
        #expect(try ours(int) == foundation(int))
        #expect(try ours(JSONValue.int(int)) == foundation(int))
    }

    @Test func recordsMatchFoundationWithSortedKeys() throws {
        let record = Record(
            name: "n\"ame", count: -3, ratio: 0.25, tags: ["b", "a", ""], nested: ["zeta": 1, "alpha": 2, "Beta": 3, "_u": 4],
            missing: nil, present: false,
            payload: ["z": [1, 2.5, "x", nil, true], "a": ["deep": ["k": "v"]], "m": [:], "e": []]
        )
        #expect(try ours(record) == foundation(record))
        #expect(try ours([record, record]) == foundation([record, record]))
    }

    @Test func otherContainerShapesMatchFoundation() throws {
        #expect(try ours([3: "c", 1: "a", 20: "t"]) == foundation([3: "c", 1: "a", 20: "t"]))
        #expect(try ours([[1, nil, 3], nil, []] as [[Int?]?]) == foundation([[1, nil, 3], nil, []] as [[Int?]?]))
        #expect(try ours(["when": Date(timeIntervalSinceReferenceDate: 12.5)]) == foundation(["when": Date(timeIntervalSinceReferenceDate: 12.5)]))
        #expect(try ours(Data([0, 1, 254, 255])) == foundation(Data([0, 1, 254, 255])))
        #expect(try ours(Float(1.1)) == foundation(Float(1.1)))
        #expect(try ours(URL(string: "https://example.com/a/b?c=d")) == foundation(URL(string: "https://example.com/a/b?c=d")))
        #expect(try ours(Optional<Int>.none) == foundation(Optional<Int>.none))
    }

    @Test func textReadsBackAsTheSameValue() throws {
        let value: JSONValue = ["text": "é\n\"", "numbers": [0, -1, 2.75, 1e300], "flag": false, "none": nil]
        let text = try JSONCoding.encode(value)
        #expect(try JSONCoding.jsonValue(from: text) == value)
        #expect(try JSONCoding.encodeText(value) == String(decoding: text, as: UTF8.self))
        #expect(try JSONCoding.encodeBytes(value) == Array(text))
    }

    @Test func nonFiniteNumbersAreRefusedLikeFoundation() throws {
        for bad in [Double.nan, Double.infinity, -Double.infinity] {
            #expect(throws: EncodingError.self) { try JSONCoding.encode(bad) }
            #expect(throws: EncodingError.self) { try JSONValueWriter.bytes(of: .array([.double(bad)])) }
        }
    }
}
