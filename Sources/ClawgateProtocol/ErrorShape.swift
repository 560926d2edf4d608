/// The error object of a failed response: `{code, message, details?, retryable?, retryAfterMs?}`.
public struct ErrorShape: Codable, Sendable, Equatable, Error {
    public var code: String
    public var message: String
    public var details: JSONValue?
    public var retryable: Bool?
    public var retryAfterMs: Int?

    public init(code: String, message: String, details: JSONValue? = nil, retryable: Bool? = nil, retryAfterMs: Int? = nil) {
        self.code = code
        self.message = message
        self.details = details
        self.retryable = retryable
        self.retryAfterMs = retryAfterMs
    }

    /// The machine-readable `details.code`, when present.
    public var detailCode: String? { details?["code"]?.stringValue }
}

/// Top-level `error.code` values (a closed set in the reference protocol).
public enum ErrorCode {
    public static let notLinked = "NOT_LINKED"
    public static let notPaired = "NOT_PAIRED"
    public static let agentTimeout = "AGENT_TIMEOUT"
    public static let invalidRequest = "INVALID_REQUEST"
    public static let unavailable = "UNAVAILABLE"
    public static let forbidden = "FORBIDDEN"
    public static let approvalNotFound = "APPROVAL_NOT_FOUND"
}

/// `details.code` values of connect failures, so clients can tell what to fix.
public enum ConnectErrorDetailCode {
    public static let authRequired = "AUTH_REQUIRED"
    public static let authUnauthorized = "AUTH_UNAUTHORIZED"
    public static let authTokenMissing = "AUTH_TOKEN_MISSING"
    public static let authTokenMismatch = "AUTH_TOKEN_MISMATCH"
    public static let authTokenNotConfigured = "AUTH_TOKEN_NOT_CONFIGURED"
    public static let authPasswordMissing = "AUTH_PASSWORD_MISSING"
    public static let authPasswordMismatch = "AUTH_PASSWORD_MISMATCH"
    public static let authPasswordNotConfigured = "AUTH_PASSWORD_NOT_CONFIGURED"
    public static let authDeviceTokenMismatch = "AUTH_DEVICE_TOKEN_MISMATCH"
    public static let authTrustedProxyRejected = "AUTH_TRUSTED_PROXY_REJECTED"
    public static let authRateLimited = "AUTH_RATE_LIMITED"
    public static let protocolMismatch = "PROTOCOL_MISMATCH"
    public static let deviceIdentityRequired = "DEVICE_IDENTITY_REQUIRED"
    public static let originNotAllowed = "CONTROL_UI_ORIGIN_NOT_ALLOWED"
    public static let deviceAuthNonceRequired = "DEVICE_AUTH_NONCE_REQUIRED"
    public static let deviceAuthNonceMismatch = "DEVICE_AUTH_NONCE_MISMATCH"
    public static let deviceAuthSignatureInvalid = "DEVICE_AUTH_SIGNATURE_INVALID"
    public static let deviceAuthSignatureExpired = "DEVICE_AUTH_SIGNATURE_EXPIRED"
    public static let deviceAuthDeviceIdMismatch = "DEVICE_AUTH_DEVICE_ID_MISMATCH"
    public static let deviceAuthPublicKeyInvalid = "DEVICE_AUTH_PUBLIC_KEY_INVALID"
    public static let pairingRequired = "PAIRING_REQUIRED"
    public static let pairingRejected = "PAIRING_REJECTED"
}

/// WebSocket close codes the gateway uses.
public enum GatewayCloseCode {
    public static let normal: UInt16 = 1000
    public static let protocolError: UInt16 = 1002
    public static let policyViolation: UInt16 = 1008
    public static let messageTooBig: UInt16 = 1009
    public static let serviceRestart: UInt16 = 1012
    public static let tryAgainLater: UInt16 = 1013
    /// Used by clients that saw no tick for two tick intervals.
    public static let tickTimeout: UInt16 = 4000
}
