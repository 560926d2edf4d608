import ClawgateProtocol
import Crypto
import Foundation

/// Identifier generation.
enum MeshIDs {
    /// 12 lower-case hex characters.
    static func agentId() -> String { RandomID.hex(count: 12) }
    /// Time-ordered (see `RandomID.timeOrderedUUID`): new task and delivery rows land at the
    /// end of their primary-key indexes.
    static func taskId() -> String { RandomID.timeOrderedUUID(nowMs: MeshClock.nowMs()) }
    static func deliveryId() -> String { RandomID.timeOrderedUUID(nowMs: MeshClock.nowMs()) }
}

/// Per-agent credentials: random, shown once, stored as SHA-256 hex.
enum MeshCredential {
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return "cga_" + Base64URL.encode(bytes)
    }

    static func hash(_ credential: String) -> String {
        SHA256.hash(data: Data(credential.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Constant-time comparison of the presented credential's hash with the stored one.
    static func matches(_ credential: String, hash stored: String) -> Bool {
        let presented = Array(hash(credential).utf8)
        let expected = Array(stored.utf8)
        guard presented.count == expected.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(presented, expected) { difference |= a ^ b }
        return difference == 0
    }
}

/// Input checks shared by every operation, with messages naming the field.
enum MeshValidation {
    static let allowedNameCharacters = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "._-:"))

    /// Ids and namespaces: 1–64 characters of letters, digits, `.`, `_`, `-`, `:`.
    static func name(_ value: String, field: String) throws(MeshError) -> String {
        guard !value.isEmpty, value.count <= 64, value.unicodeScalars.allSatisfy({ allowedNameCharacters.contains($0) && $0.isASCII })
        else {
            throw MeshError(.invalidInput, "\(field) must be 1 to 64 characters of letters, digits, '.', '_', '-' or ':'")
        }
        return value
    }

    /// File and state keys: 1–256 bytes of printable characters without control characters.
    static func fileKey(_ key: String) throws(MeshError) -> String {
        guard !key.isEmpty, key.utf8.count <= 256, !key.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) })
        else { throw MeshError(.invalidInput, "key must be 1 to 256 bytes without control characters") }
        return key
    }

    static func list(_ values: [String], field: String) throws(MeshError) -> [String] {
        guard values.count <= 256 else { throw MeshError(.invalidInput, "\(field) has more than 256 entries") }
        for value in values where value.isEmpty || value.utf8.count > 128 {
            throw MeshError(.invalidInput, "\(field) entries must be 1 to 128 bytes")
        }
        return values
    }

    static func size(of value: JSONValue?, field: String, limit: Int) throws(MeshError) {
        guard let value else { return }
        let bytes = (try? JSONCoding.encode(value).count) ?? 0
        guard bytes <= limit else { throw MeshError(.tooLarge, "\(field) is larger than \(limit) bytes") }
    }
}
