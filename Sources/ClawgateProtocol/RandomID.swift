/// Random identifiers in UUID form, from the system's CSPRNG (`SystemRandomNumberGenerator`:
/// `getrandom(2)` on Linux).
///
/// Foundation's `UUID()` opens `/dev/urandom` for every UUID on Linux: a file open and close per
/// task, delivery, request and connection id, which `strace` showed ~500 times a second under
/// mesh load. The ids here have the same text form (36 lower-case characters, version and
/// variant bits set), so nothing reading them changes.
public enum RandomID {
    /// A random UUID (version 4): 122 random bits.
    public static func uuid() -> String {
        var bytes = randomBytes()
        bytes.6 = (bytes.6 & 0x0F) | 0x40
        bytes.8 = (bytes.8 & 0x3F) | 0x80
        return text(bytes)
    }

    /// A time-ordered UUID (version 7, RFC 9562): 48 bits of Unix milliseconds, then 74 random
    /// bits. Rows keyed by these are appended at the end of their index, so the new rows of one
    /// commit share pages instead of each dirtying a random page of the index.
    public static func timeOrderedUUID(nowMs: Int) -> String {
        var bytes = randomBytes()
        let ms = UInt64(clamping: max(nowMs, 0)) & 0xFFFF_FFFF_FFFF
        bytes.0 = UInt8(truncatingIfNeeded: ms >> 40)
        bytes.1 = UInt8(truncatingIfNeeded: ms >> 32)
        bytes.2 = UInt8(truncatingIfNeeded: ms >> 24)
        bytes.3 = UInt8(truncatingIfNeeded: ms >> 16)
        bytes.4 = UInt8(truncatingIfNeeded: ms >> 8)
        bytes.5 = UInt8(truncatingIfNeeded: ms)
        bytes.6 = (bytes.6 & 0x0F) | 0x70
        bytes.8 = (bytes.8 & 0x3F) | 0x80
        return text(bytes)
    }

    /// `count` random lower-case hex digits.
    public static func hex(count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        var digits: [UInt8] = []
        digits.reserveCapacity(count)
        while digits.count < count {
            var word = generator.next()
            for _ in 0..<16 where digits.count < count {
                digits.append(hexDigits[Int(word & 0x0F)])
                word >>= 4
            }
        }
        return String(decoding: digits, as: UTF8.self)
    }

    typealias Bytes = (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func randomBytes() -> Bytes {
        var generator = SystemRandomNumberGenerator()
        var words = (generator.next() as UInt64, generator.next() as UInt64)
        return withUnsafeBytes(of: &words) { raw in
            raw.load(as: Bytes.self)
        }
    }

    private static func text(_ bytes: Bytes) -> String {
        var bytes = bytes
        return withUnsafeBytes(of: &bytes) { raw in
            var text: [UInt8] = []
            text.reserveCapacity(36)
            for (index, byte) in raw.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
                text.append(hexDigits[Int(byte >> 4)])
                text.append(hexDigits[Int(byte & 0x0F)])
            }
            return String(decoding: text, as: UTF8.self)
        }
    }
}
