import ClawgateProtocol
import Foundation

/// A client's persistent device identity and the device tokens gateways issued to it, under
/// `<dir>/device.json` and `<dir>/device-auth.json` (mode 0600, directory 0700).
public struct DeviceIdentityStore: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    var identityPath: String { (directory as NSString).appendingPathComponent("device.json") }
    var authPath: String { (directory as NSString).appendingPathComponent("device-auth.json") }

    struct StoredIdentity: Codable {
        var version = 1
        var deviceId: String
        var publicKey: String
        var privateKey: String
        var createdAtMs: Int
    }

    struct StoredTokens: Codable {
        var version = 1
        /// `"<gateway url>|<role>"` → token.
        var tokens: [String: String] = [:]
    }

    /// Loads the identity, creating and saving a new one on first use.
    public func loadOrCreateIdentity() throws -> DeviceIdentity {
        if let data = FileManager.default.contents(atPath: identityPath) {
            let stored = try JSONDecoder().decode(StoredIdentity.self, from: data)
            return try DeviceIdentity(privateKeyBase64URL: stored.privateKey)
        }
        let identity = DeviceIdentity()
        let stored = StoredIdentity(
            deviceId: identity.deviceId, publicKey: identity.publicKey.base64URL, privateKey: identity.privateKeyBase64URL,
            createdAtMs: Int(Date().timeIntervalSince1970 * 1000)
        )
        try write(JSONCoding.encode(stored, sortedKeys: true), to: identityPath)
        return identity
    }

    public func deviceToken(url: String, role: String) -> String? {
        guard let data = FileManager.default.contents(atPath: authPath),
            let stored = try? JSONDecoder().decode(StoredTokens.self, from: data)
        else { return nil }
        return stored.tokens["\(url)|\(role)"]
    }

    public func saveDeviceToken(_ token: String?, url: String, role: String) throws {
        var stored = FileManager.default.contents(atPath: authPath).flatMap { try? JSONDecoder().decode(StoredTokens.self, from: $0) }
            ?? StoredTokens()
        stored.tokens["\(url)|\(role)"] = token
        try write(JSONCoding.encode(stored, sortedKeys: true), to: authPath)
    }

    private func write(_ data: Data, to path: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary])
        }
        guard rename(temporary, path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }
}
