import ClawgateProtocol
import HTTPTypes

/// How to reach and identify to a gateway.
public struct GatewayClientOptions: Sendable {
    public var url: String
    public var token: String?
    public var password: String?
    public var deviceToken: String?
    public var client: ClientInfo
    public var role: String
    public var scopes: [String]
    public var caps: [String]
    public var device: DeviceIdentity?
    public var signatureVersion: DeviceAuthPayload.Version
    public var minProtocol: Int
    public var maxProtocol: Int
    /// Extra upgrade headers (e.g. `Origin` for browser-like clients).
    public var headers: HTTPFields
    /// How long the socket may take to reach `hello-ok`.
    public var connectTimeout: Duration
    public var requestTimeout: Duration
    public var maxFrameSize: Int

    public init(
        url: String, token: String? = nil, password: String? = nil, deviceToken: String? = nil,
        client: ClientInfo = ClientInfo(id: "cli", version: "0.1.0", platform: "linux", mode: "cli"),
        role: String = "operator", scopes: [String] = OperatorScope.cliDefaults, caps: [String] = [],
        device: DeviceIdentity? = nil, signatureVersion: DeviceAuthPayload.Version = .v3,
        minProtocol: Int = ProtocolVersion.minimum, maxProtocol: Int = ProtocolVersion.maximum, headers: HTTPFields = [:],
        connectTimeout: Duration = .seconds(10), requestTimeout: Duration = .seconds(30), maxFrameSize: Int = 32 << 20
    ) {
        self.url = url
        self.token = token
        self.password = password
        self.deviceToken = deviceToken
        self.client = client
        self.role = role
        self.scopes = scopes
        self.caps = caps
        self.device = device
        self.signatureVersion = signatureVersion
        self.minProtocol = minProtocol
        self.maxProtocol = maxProtocol
        self.headers = headers
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.maxFrameSize = maxFrameSize
    }

    /// The `connect` params for a challenge nonce, signed when a device identity is set.
    public func connectParams(nonce: String, nowMs: Int) throws -> ConnectParams {
        var params = ConnectParams(
            minProtocol: minProtocol, maxProtocol: maxProtocol, client: client, role: role, scopes: scopes,
            caps: caps.isEmpty ? nil : caps, device: nil,
            auth: (token == nil && password == nil && deviceToken == nil)
                ? nil : ConnectAuth(token: token, password: password, deviceToken: deviceToken)
        )
        if let device {
            params.device = try device.proof(
                signatureVersion,
                fields: .init(
                    deviceId: device.deviceId, clientId: client.id, clientMode: client.mode, role: role, scopes: scopes,
                    signedAtMs: nowMs, token: token, nonce: nonce, platform: client.platform,
                    deviceFamily: client.deviceFamily
                )
            )
        }
        return params
    }
}
