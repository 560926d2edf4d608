/// A device waiting for an operator's decision.
public struct PairingRequestInfo: Codable, Sendable, Equatable {
    public var requestId: String
    public var deviceId: String
    public var publicKey: String
    public var role: String
    public var scopes: [String]
    public var reason: String
    public var clientId: String?
    public var clientMode: String?
    public var displayName: String?
    public var platform: String?
    public var remoteIp: String?
    public var createdAtMs: Int

    public init(
        requestId: String, deviceId: String, publicKey: String, role: String, scopes: [String], reason: String,
        clientId: String?, clientMode: String?, displayName: String?, platform: String?, remoteIp: String?, createdAtMs: Int
    ) {
        self.requestId = requestId
        self.deviceId = deviceId
        self.publicKey = publicKey
        self.role = role
        self.scopes = scopes
        self.reason = reason
        self.clientId = clientId
        self.clientMode = clientMode
        self.displayName = displayName
        self.platform = platform
        self.remoteIp = remoteIp
        self.createdAtMs = createdAtMs
    }
}

/// A paired device as operators see it (tokens are never shown).
public struct PairedDeviceInfo: Codable, Sendable, Equatable {
    public var deviceId: String
    public var publicKey: String
    public var displayName: String?
    public var platform: String?
    public var clientId: String?
    public var roles: [String]
    public var scopes: [String]
    public var tokens: [TokenInfo]
    public var approvedAtMs: Int
    public var approvedBy: String

    public init(
        deviceId: String, publicKey: String, displayName: String?, platform: String?, clientId: String?, roles: [String],
        scopes: [String], tokens: [TokenInfo], approvedAtMs: Int, approvedBy: String
    ) {
        self.deviceId = deviceId
        self.publicKey = publicKey
        self.displayName = displayName
        self.platform = platform
        self.clientId = clientId
        self.roles = roles
        self.scopes = scopes
        self.tokens = tokens
        self.approvedAtMs = approvedAtMs
        self.approvedBy = approvedBy
    }

    public struct TokenInfo: Codable, Sendable, Equatable {
        public var role: String
        public var scopes: [String]
        public var issuedAtMs: Int
        public var revokedAtMs: Int?

        public init(role: String, scopes: [String], issuedAtMs: Int, revokedAtMs: Int?) {
            self.role = role
            self.scopes = scopes
            self.issuedAtMs = issuedAtMs
            self.revokedAtMs = revokedAtMs
        }
    }
}

/// `device.pair.list` result.
public struct DevicePairListResult: Codable, Sendable, Equatable {
    public var pending: [PairingRequestInfo]
    public var paired: [PairedDeviceInfo]
    public init(pending: [PairingRequestInfo], paired: [PairedDeviceInfo]) {
        self.pending = pending
        self.paired = paired
    }
}

/// `device.pair.approve` / `device.pair.reject` params.
public struct PairingDecisionParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["requestId"]
    public var requestId: String
    public init(requestId: String) { self.requestId = requestId }
}

/// `device.pair.resolved` event payload and the approve/reject result.
public struct PairingResolved: Codable, Sendable, Equatable {
    public var requestId: String
    public var deviceId: String
    public var decision: String
    public var ts: Int
    public init(requestId: String, deviceId: String, decision: String, ts: Int) {
        self.requestId = requestId
        self.deviceId = deviceId
        self.decision = decision
        self.ts = ts
    }
}

/// `device.pair.remove` params.
public struct DeviceRemoveParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["deviceId"]
    public var deviceId: String
    public init(deviceId: String) { self.deviceId = deviceId }
}

public struct DeviceRemoveResult: Codable, Sendable, Equatable {
    public var deviceId: String
    public var removed: Bool
    public var disconnected: Int
    public init(deviceId: String, removed: Bool, disconnected: Int) {
        self.deviceId = deviceId
        self.removed = removed
        self.disconnected = disconnected
    }
}

/// `device.token.rotate` params. Scopes default to the device's approved scopes and can never
/// exceed the caller's own.
public struct DeviceTokenRotateParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["deviceId", "role", "scopes"]
    public var deviceId: String
    public var role: String
    public var scopes: [String]?
    public init(deviceId: String, role: String, scopes: [String]? = nil) {
        self.deviceId = deviceId
        self.role = role
        self.scopes = scopes
    }
}

public struct DeviceTokenRotateResult: Codable, Sendable, Equatable {
    public var deviceId: String
    public var role: String
    public var token: String
    public var scopes: [String]
    public var rotatedAtMs: Int
    public init(deviceId: String, role: String, token: String, scopes: [String], rotatedAtMs: Int) {
        self.deviceId = deviceId
        self.role = role
        self.token = token
        self.scopes = scopes
        self.rotatedAtMs = rotatedAtMs
    }
}

/// `device.token.revoke` params.
public struct DeviceTokenRevokeParams: MethodParams, Equatable {
    public static let fields: Set<String> = ["deviceId", "role"]
    public var deviceId: String
    public var role: String
    public init(deviceId: String, role: String) {
        self.deviceId = deviceId
        self.role = role
    }
}

public struct DeviceTokenRevokeResult: Codable, Sendable, Equatable {
    public var deviceId: String
    public var role: String
    public var revokedAtMs: Int
    public init(deviceId: String, role: String, revokedAtMs: Int) {
        self.deviceId = deviceId
        self.role = role
        self.revokedAtMs = revokedAtMs
    }
}
