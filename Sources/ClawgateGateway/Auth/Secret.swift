import ClawgateProtocol
import Crypto
import Foundation

/// A secret (token, password) that cannot end up in a log line by accident: printing it,
/// interpolating it or dumping it shows `<redacted>`. The value is reachable only through
/// `reveal()`, which is greppable.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String

    public init(_ value: String) {
        self.value = value
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: []) }

    /// The plain value, for the few places that must send or store it.
    public func reveal() -> String { value }

    /// Constant-time comparison: both sides are hashed first so that neither the content nor
    /// the length of the secret leaks through timing.
    public func matches(_ candidate: String) -> Bool {
        Secret.constantTimeEquals(candidate, value)
    }

    public static func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        let a = SHA256.hash(data: Data(lhs.utf8))
        let b = SHA256.hash(data: Data(rhs.utf8))
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    /// A fresh random secret: 32 bytes from the system CSPRNG, base64url.
    public static func generate(byteCount: Int = 32) -> Secret {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<byteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Secret(Base64URL.encode(bytes))
    }
}

