/// `connect.params.device`: a signed proof of possession of an Ed25519 device key.
public struct DeviceProof: Codable, Sendable, Equatable {
    public var id: String
    public var publicKey: String
    public var signature: String
    public var signedAt: Int
    public var nonce: String?

    public init(id: String, publicKey: String, signature: String, signedAt: Int, nonce: String?) {
        self.id = id
        self.publicKey = publicKey
        self.signature = signature
        self.signedAt = signedAt
        self.nonce = nonce
    }
}

/// `connect.params.auth`: the shared secret and/or a device token.
public struct ConnectAuth: Codable, Sendable, Equatable {
    public var token: String?
    public var password: String?
    public var deviceToken: String?
    public var bootstrapToken: String?

    public init(token: String? = nil, password: String? = nil, deviceToken: String? = nil) {
        self.token = token
        self.password = password
        self.deviceToken = deviceToken
    }
}

/// The parameters of the `connect` request, the first frame a client sends.
public struct ConnectParams: Codable, Sendable, Equatable {
    public var minProtocol: Int
    public var maxProtocol: Int
    public var client: ClientInfo
    public var role: String?
    public var scopes: [String]?
    public var caps: [String]?
    public var commands: [String]?
    public var permissions: [String: Bool]?
    public var pathEnv: String?
    public var device: DeviceProof?
    public var auth: ConnectAuth?
    public var locale: String?
    public var userAgent: String?

    public init(
        minProtocol: Int = ProtocolVersion.minimum, maxProtocol: Int = ProtocolVersion.maximum, client: ClientInfo,
        role: String? = nil, scopes: [String]? = nil, caps: [String]? = nil, device: DeviceProof? = nil,
        auth: ConnectAuth? = nil
    ) {
        self.minProtocol = minProtocol
        self.maxProtocol = maxProtocol
        self.client = client
        self.role = role
        self.scopes = scopes
        self.caps = caps
        self.device = device
        self.auth = auth
    }
}

/// `connect.challenge` event payload, sent by the server as soon as the socket opens.
public struct ConnectChallenge: Codable, Sendable, Equatable {
    public var nonce: String
    public var ts: Int

    public init(nonce: String, ts: Int) {
        self.nonce = nonce
        self.ts = ts
    }
}
