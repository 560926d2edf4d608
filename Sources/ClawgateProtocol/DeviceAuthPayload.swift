import Foundation

/// The strings a device signs to prove it holds its key during `connect`.
///
/// Fields are joined with `|`; scopes with `,`; the token is the value sent in `auth.token`
/// (or empty). v3 adds the lower-cased platform and device family.
public enum DeviceAuthPayload {
    public enum Version: String, Sendable, CaseIterable {
        case v2
        case v3
    }

    public struct Fields: Sendable, Equatable {
        public var deviceId: String
        public var clientId: String
        public var clientMode: String
        public var role: String
        public var scopes: [String]
        public var signedAtMs: Int
        public var token: String
        public var nonce: String
        public var platform: String?
        public var deviceFamily: String?

        public init(
            deviceId: String, clientId: String, clientMode: String, role: String, scopes: [String], signedAtMs: Int,
            token: String?, nonce: String, platform: String?, deviceFamily: String?
        ) {
            self.deviceId = deviceId
            self.clientId = clientId
            self.clientMode = clientMode
            self.role = role
            self.scopes = scopes
            self.signedAtMs = signedAtMs
            self.token = token ?? ""
            self.nonce = nonce
            self.platform = platform
            self.deviceFamily = deviceFamily
        }
    }

    public static func build(_ version: Version, _ fields: Fields) -> String {
        var parts = [
            version.rawValue, fields.deviceId, fields.clientId, fields.clientMode, fields.role,
            fields.scopes.joined(separator: ","), String(fields.signedAtMs), fields.token, fields.nonce,
        ]
        if version == .v3 {
            parts.append(normalize(fields.platform))
            parts.append(normalize(fields.deviceFamily))
        }
        return parts.joined(separator: "|")
    }

    /// Trimmed and ASCII-lower-cased, as the reference implementation does.
    static func normalize(_ value: String?) -> String {
        guard let value else { return "" }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        let bytes = trimmed.utf8.map { byte in (65...90).contains(byte) ? byte + 32 : byte }
        return String(decoding: bytes, as: UTF8.self)
    }
}
