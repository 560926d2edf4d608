import Crypto
import Foundation

/// A device's Ed25519 public key as sent in `connect.params.device.publicKey`.
public struct DevicePublicKey: Sendable, Equatable {
    public let rawRepresentation: Data

    /// DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows it.
    static let spkiPrefix: [UInt8] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]

    /// For keys that came from Crypto itself and need no validation.
    init(trusted key: Curve25519.Signing.PublicKey) {
        self.rawRepresentation = key.rawRepresentation
    }

    public init(rawRepresentation: Data) throws(DeviceKeyError) {
        guard rawRepresentation.count == 32,
            (try? Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation)) != nil
        else { throw .invalidPublicKey }
        self.rawRepresentation = rawRepresentation
    }

    /// Accepts base64url of the raw 32-byte key, or a PEM `PUBLIC KEY` (SPKI) block.
    public init(parsing text: String) throws(DeviceKeyError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("-----BEGIN") {
            // Any line break, including CRLF (a single Character in Swift, so never equal to "\n").
            let body = trimmed.split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                .filter { !$0.hasPrefix("-----") }
                .joined()
            guard let der = Data(base64Encoded: body), der.count == 44, Array(der.prefix(12)) == Self.spkiPrefix else {
                throw .invalidPublicKey
            }
            try self.init(rawRepresentation: der.suffix(32))
        } else {
            guard let raw = Base64URL.decode(trimmed) else { throw .invalidPublicKey }
            try self.init(rawRepresentation: raw)
        }
    }

    /// The device id: lower-case hex SHA-256 of the raw key.
    public var deviceId: String {
        SHA256.hash(data: rawRepresentation).map { String(format: "%02x", $0) }.joined()
    }

    public var base64URL: String { Base64URL.encode(rawRepresentation) }

    /// Verifies a base64url (or base64) Ed25519 signature over a UTF-8 string.
    public func isValidSignature(_ signature: String, for message: String) -> Bool {
        guard let signatureBytes = Base64URL.decode(signature),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation)
        else { return false }
        return key.isValidSignature(signatureBytes, for: Data(message.utf8))
    }
}

public enum DeviceKeyError: Error, Sendable, Equatable {
    case invalidPublicKey
    case invalidPrivateKey
}

/// A device's own key pair: what a client uses to sign its `connect` request.
public struct DeviceIdentity: Sendable {
    public let privateKey: Curve25519.Signing.PrivateKey

    public init() {
        self.privateKey = Curve25519.Signing.PrivateKey()
    }

    public init(privateKeyBase64URL: String) throws(DeviceKeyError) {
        guard let raw = Base64URL.decode(privateKeyBase64URL),
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        else { throw .invalidPrivateKey }
        self.privateKey = key
    }

    public var privateKeyBase64URL: String { Base64URL.encode(privateKey.rawRepresentation) }

    public var publicKey: DevicePublicKey {
        DevicePublicKey(trusted: privateKey.publicKey)
    }

    public var deviceId: String { publicKey.deviceId }

    /// The PEM SPKI form some clients send instead of base64url.
    public var publicKeyPEM: String {
        let der = Data(DevicePublicKey.spkiPrefix) + privateKey.publicKey.rawRepresentation
        return "-----BEGIN PUBLIC KEY-----\n\(der.base64EncodedString())\n-----END PUBLIC KEY-----\n"
    }

    public func sign(_ message: String) throws -> String {
        Base64URL.encode(try privateKey.signature(for: Data(message.utf8)))
    }

    /// Builds the `device` block of `connect` for the given payload fields.
    public func proof(_ version: DeviceAuthPayload.Version, fields: DeviceAuthPayload.Fields) throws -> DeviceProof {
        let payload = DeviceAuthPayload.build(version, fields)
        return DeviceProof(
            id: fields.deviceId, publicKey: publicKey.base64URL, signature: try sign(payload),
            signedAt: fields.signedAtMs, nonce: fields.nonce
        )
    }
}
