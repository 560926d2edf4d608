import ClawgateProtocol
import Foundation
import Testing

@Suite("Random ids")
struct RandomIDTests {
    /// Parses as a UUID, with the given version nibble and the RFC 9562 variant.
    func check(_ id: String, version: Character) {
        #expect(id.count == 36)
        #expect(id == id.lowercased())
        #expect(UUID(uuidString: id) != nil, "\(id) is not a UUID")
        let characters = Array(id)
        #expect(characters[14] == version, "\(id)")
        #expect("89ab".contains(characters[19]), "\(id)")
    }

    @Test func randomUUIDsAreVersion4AndDistinct() {
        let ids = (0..<2000).map { _ in RandomID.uuid() }
        for id in ids.prefix(50) { check(id, version: "4") }
        #expect(Set(ids).count == ids.count)
    }

    @Test func timeOrderedUUIDsAreVersion7AndSortByTime() {
        let base = 1_763_700_000_000
        let ids = (0..<1000).map { RandomID.timeOrderedUUID(nowMs: base + $0) }
        for id in ids.prefix(50) { check(id, version: "7") }
        #expect(ids.sorted() == ids)
        #expect(Set(ids).count == ids.count)
        // The first 48 bits are the milliseconds.
        let first = ids[0].replacingOccurrences(of: "-", with: "").prefix(12)
        #expect(Int(first, radix: 16) == base)
        // Ids of one millisecond differ in their random bits.
        let same = (0..<1000).map { _ in RandomID.timeOrderedUUID(nowMs: base) }
        #expect(Set(same).count == same.count)
    }

    @Test(arguments: [0, 1, 8, 12, 16, 17, 32])
    func hexHasTheLengthAskedFor(_ count: Int) {
        let value = RandomID.hex(count: count)
        #expect(value.count == count)
        #expect(value.allSatisfy { "0123456789abcdef".contains($0) })
    }

    @Test func hexDigitsAreAllUsed() {
        let digits = Set((0..<200).flatMap { _ in RandomID.hex(count: 32) })
        #expect(digits.count == 16)
    }
}
