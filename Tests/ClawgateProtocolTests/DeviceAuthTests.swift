import ClawgateProtocol
import Foundation
import Testing

/// RFC 8032 §7.1, test 1: a fixed Ed25519 key pair and the signature of the empty message.
enum RFC8032 {
    static let privateKeyBase64URL = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
    static let publicKeyHex = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    static let publicKeyBase64URL = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    /// `sha256sum` of the 32 raw public key bytes.
    static let deviceId = "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9"
    static let emptyMessageSignature =
        "5VZDAMNgrHKQhuLMgG6CioSHfx645dl02HPgZSJJAVVfuIIVkKM7rMYeOXAc-bRr0lv18FlbviRlUUFDjnoQCw"
    static let spkiBase64 = "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
}

func hexBytes(_ hex: String) -> Data {
    var data = Data()
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        data.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return data
}

@Suite("Device auth payloads")
struct DeviceAuthPayloadTests {
    @Test func v3PayloadMatchesReferenceExampleWithNormalisedPlatform() {
        let fields = DeviceAuthPayload.Fields(
            deviceId: "dev-1", clientId: "openclaw-macos", clientMode: "ui", role: "operator",
            scopes: ["operator.admin", "operator.read"], signedAtMs: 1_700_000_000_000, token: "tok-123",
            nonce: "nonce-abc", platform: " iOS ", deviceFamily: "iPhone"
        )
        #expect(
            DeviceAuthPayload.build(.v3, fields)
                == "v3|dev-1|openclaw-macos|ui|operator|operator.admin,operator.read|1700000000000|tok-123|nonce-abc|ios|iphone"
        )
    }

    @Test func v2PayloadHasNoPlatformFields() {
        let fields = DeviceAuthPayload.Fields(
            deviceId: "dev-1", clientId: "openclaw-macos", clientMode: "ui", role: "operator",
            scopes: ["operator.admin", "operator.read"], signedAtMs: 1_700_000_000_000, token: "tok-123",
            nonce: "nonce-abc", platform: " iOS ", deviceFamily: "iPhone"
        )
        #expect(
            DeviceAuthPayload.build(.v2, fields)
                == "v2|dev-1|openclaw-macos|ui|operator|operator.admin,operator.read|1700000000000|tok-123|nonce-abc"
        )
    }

    @Test func missingTokenPlatformAndFamilyBecomeEmptyFields() {
        let fields = DeviceAuthPayload.Fields(
            deviceId: "d", clientId: "cli", clientMode: "cli", role: "node", scopes: [], signedAtMs: 5, token: nil,
            nonce: "n", platform: nil, deviceFamily: nil
        )
        #expect(DeviceAuthPayload.build(.v2, fields) == "v2|d|cli|cli|node||5||n")
        #expect(DeviceAuthPayload.build(.v3, fields) == "v3|d|cli|cli|node||5||n||")
    }

    @Test func v3LowerCasesOnlyASCII() {
        let fields = DeviceAuthPayload.Fields(
            deviceId: "d", clientId: "cli", clientMode: "cli", role: "operator", scopes: ["operator.read"], signedAtMs: 1,
            token: "t", nonce: "n", platform: "\tLinux\n", deviceFamily: "ÄPPLE Watch"
        )
        // Trimmed; A–Z lower-cased, non-ASCII letters left alone.
        #expect(DeviceAuthPayload.build(.v3, fields) == "v3|d|cli|cli|operator|operator.read|1|t|n|linux|Äpple watch")
    }
}

@Suite("Device keys")
struct DeviceKeyTests {
    @Test func deviceIdIsHexSHA256OfRawPublicKey() throws {
        let identity = try DeviceIdentity(privateKeyBase64URL: RFC8032.privateKeyBase64URL)
        #expect(identity.publicKey.rawRepresentation == hexBytes(RFC8032.publicKeyHex))
        #expect(identity.publicKey.base64URL == RFC8032.publicKeyBase64URL)
        #expect(identity.deviceId == RFC8032.deviceId)
        #expect(identity.privateKeyBase64URL == RFC8032.privateKeyBase64URL)
        let parsed = try DevicePublicKey(rawRepresentation: hexBytes(RFC8032.publicKeyHex))
        #expect(parsed.deviceId == RFC8032.deviceId)
    }

    @Test func freshIdentitiesHaveDistinctLowerHexIds() {
        let a = DeviceIdentity()
        let b = DeviceIdentity()
        #expect(a.deviceId != b.deviceId)
        #expect(a.deviceId.count == 64)
        #expect(a.deviceId.allSatisfy { "0123456789abcdef".contains($0) })
    }

    @Test func signatureMatchesRFC8032Vector() throws {
        let identity = try DeviceIdentity(privateKeyBase64URL: RFC8032.privateKeyBase64URL)
        #expect(try identity.sign("") == RFC8032.emptyMessageSignature)
        let key = try DevicePublicKey(parsing: RFC8032.publicKeyBase64URL)
        #expect(key.isValidSignature(RFC8032.emptyMessageSignature, for: ""))
        #expect(!key.isValidSignature(RFC8032.emptyMessageSignature, for: "x"))
    }

    @Test func parsesBase64URLAndPEM() throws {
        let fromURL = try DevicePublicKey(parsing: RFC8032.publicKeyBase64URL)
        #expect(fromURL.rawRepresentation == hexBytes(RFC8032.publicKeyHex))
        // Surrounding whitespace is tolerated.
        #expect(try DevicePublicKey(parsing: "  \(RFC8032.publicKeyBase64URL)\n") == fromURL)
        // Standard base64 with padding is accepted as a fallback.
        let standard = hexBytes(RFC8032.publicKeyHex).base64EncodedString()
        #expect(try DevicePublicKey(parsing: standard) == fromURL)

        let pem = "-----BEGIN PUBLIC KEY-----\n\(RFC8032.spkiBase64)\n-----END PUBLIC KEY-----\n"
        #expect(try DevicePublicKey(parsing: pem) == fromURL)
        let identity = try DeviceIdentity(privateKeyBase64URL: RFC8032.privateKeyBase64URL)
        #expect(identity.publicKeyPEM == pem)
        #expect(try DevicePublicKey(parsing: identity.publicKeyPEM).deviceId == RFC8032.deviceId)
        // CRLF line endings in PEM.
        let crlf = pem.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(try DevicePublicKey(parsing: crlf) == fromURL)
    }

    @Test(arguments: [
        "", "not a key!!", "AAAA",
        // 31 bytes
        Base64URL.encode(Data(repeating: 7, count: 31)),
        // 33 bytes
        Base64URL.encode(Data(repeating: 7, count: 33)),
        // PEM with a wrong algorithm prefix (X25519 OID 1.3.101.110 instead of Ed25519)
        "-----BEGIN PUBLIC KEY-----\n"
            + (Data([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00]) + Data(repeating: 1, count: 32))
            .base64EncodedString() + "\n-----END PUBLIC KEY-----",
        // PEM with a truncated body
        "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----",
        "-----BEGIN PUBLIC KEY-----\n%%%%\n-----END PUBLIC KEY-----",
    ])
    func rejectsGarbageKeys(_ text: String) {
        #expect(throws: DeviceKeyError.invalidPublicKey) { try DevicePublicKey(parsing: text) }
    }

    @Test func rejectsWrongLengthRawKey() {
        #expect(throws: DeviceKeyError.invalidPublicKey) { try DevicePublicKey(rawRepresentation: Data(repeating: 1, count: 16)) }
    }

    @Test func rejectsBadPrivateKey() {
        #expect(throws: DeviceKeyError.invalidPrivateKey) { try DeviceIdentity(privateKeyBase64URL: "short") }
        #expect(throws: DeviceKeyError.invalidPrivateKey) { try DeviceIdentity(privateKeyBase64URL: "!!!") }
    }

    @Test func signVerifyRoundTrip() throws {
        let identity = DeviceIdentity()
        let other = DeviceIdentity()
        let message = "v3|x|cli|cli|operator||1|t|n|linux|"
        let signature = try identity.sign(message)
        #expect(!signature.contains("="))
        #expect(!signature.contains("+") && !signature.contains("/"))
        #expect(identity.publicKey.isValidSignature(signature, for: message))
        #expect(!identity.publicKey.isValidSignature(signature, for: message + "x"))
        #expect(!other.publicKey.isValidSignature(signature, for: message))
        #expect(!identity.publicKey.isValidSignature("garbage", for: message))
        // Standard base64 of the same signature is accepted too.
        let standard = Base64URL.decode(signature)!.base64EncodedString()
        #expect(identity.publicKey.isValidSignature(standard, for: message))
        // A private key survives export and import.
        let restored = try DeviceIdentity(privateKeyBase64URL: identity.privateKeyBase64URL)
        #expect(restored.deviceId == identity.deviceId)
    }

    @Test func proofSignsTheBuiltPayload() throws {
        let identity = DeviceIdentity()
        for version in DeviceAuthPayload.Version.allCases {
            let fields = DeviceAuthPayload.Fields(
                deviceId: identity.deviceId, clientId: "cli", clientMode: "cli", role: "operator", scopes: ["operator.read"],
                signedAtMs: 42, token: "tok", nonce: "nonce-1", platform: "Linux", deviceFamily: nil
            )
            let proof = try identity.proof(version, fields: fields)
            #expect(proof.id == identity.deviceId)
            #expect(proof.publicKey == identity.publicKey.base64URL)
            #expect(proof.signedAt == 42)
            #expect(proof.nonce == "nonce-1")
            #expect(identity.publicKey.isValidSignature(proof.signature, for: DeviceAuthPayload.build(version, fields)))
            let otherVersion: DeviceAuthPayload.Version = version == .v2 ? .v3 : .v2
            #expect(!identity.publicKey.isValidSignature(proof.signature, for: DeviceAuthPayload.build(otherVersion, fields)))
        }
    }
}

@Suite("Base64URL")
struct Base64URLTests {
    @Test func encodesWithoutPaddingUsingURLAlphabet() {
        #expect(Base64URL.encode(Data([0xfb, 0xff])) == "-_8")
        #expect(Base64URL.encode(Data([0xfb, 0xef, 0xbe])) == "----")
        #expect(Base64URL.encode(Data()) == "")
        #expect(Base64URL.encode(Data("f".utf8)) == "Zg")
        #expect(Base64URL.encode(Data("fo".utf8)) == "Zm8")
        #expect(Base64URL.encode(Data("foo".utf8)) == "Zm9v")
    }

    @Test func decodesURLAndStandardAlphabets() {
        #expect(Base64URL.decode("-_8") == Data([0xfb, 0xff]))
        #expect(Base64URL.decode("+/8=") == Data([0xfb, 0xff]))
        #expect(Base64URL.decode("Zg") == Data("f".utf8))
        #expect(Base64URL.decode("Zm8") == Data("fo".utf8))
        #expect(Base64URL.decode("") == Data())
    }

    @Test func rejectsInvalidText() {
        #expect(Base64URL.decode("@@@@") == nil)
        #expect(Base64URL.decode("Z") == nil)
    }

    @Test func roundTripsRandomBytes() {
        for length in 0..<70 {
            let bytes = Data((0..<length).map { _ in UInt8.random(in: .min ... .max) })
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
    }
}
