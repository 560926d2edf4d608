import ClawgateProtocol

/// A device an operator (or loopback auto-approval) has admitted.
struct PairedDevice: Codable, Sendable, Equatable {
    var deviceId: String
    var publicKey: String
    var displayName: String?
    var platform: String?
    var clientId: String?
    var roles: [String]
    var scopes: [String]
    var approvedAtMs: Int
    var approvedBy: String
    /// Device tokens by role. Only SHA-256 hashes are stored; the plain token is shown once.
    var tokens: [String: DeviceTokenRecord]

    var info: PairedDeviceInfo {
        PairedDeviceInfo(
            deviceId: deviceId, publicKey: publicKey, displayName: displayName, platform: platform, clientId: clientId,
            roles: roles, scopes: scopes,
            tokens: tokens.keys.sorted().compactMap { role in
                tokens[role].map {
                    .init(role: role, scopes: $0.scopes, issuedAtMs: $0.issuedAtMs, revokedAtMs: $0.revokedAtMs)
                }
            },
            approvedAtMs: approvedAtMs, approvedBy: approvedBy
        )
    }
}

struct DeviceTokenRecord: Codable, Sendable, Equatable {
    var tokenHash: String
    var scopes: [String]
    var issuedAtMs: Int
    var revokedAtMs: Int?
}

/// A device that asked to pair (or to widen its role/scopes) and waits for an operator.
struct PendingPairing: Codable, Sendable, Equatable {
    var requestId: String
    var deviceId: String
    var publicKey: String
    var role: String
    var scopes: [String]
    var reason: String
    var clientId: String?
    var clientMode: String?
    var displayName: String?
    var platform: String?
    var remoteIp: String?
    var createdAtMs: Int

    var info: PairingRequestInfo {
        PairingRequestInfo(
            requestId: requestId, deviceId: deviceId, publicKey: publicKey, role: role, scopes: scopes, reason: reason,
            clientId: clientId, clientMode: clientMode, displayName: displayName, platform: platform, remoteIp: remoteIp,
            createdAtMs: createdAtMs
        )
    }
}

/// What a connecting device asks for.
struct PairingClaim: Sendable {
    var deviceId: String
    var publicKey: String
    var role: String
    var scopes: [String]
    var clientId: String?
    var clientMode: String?
    var displayName: String?
    var platform: String?
    var remoteIp: String?
}
