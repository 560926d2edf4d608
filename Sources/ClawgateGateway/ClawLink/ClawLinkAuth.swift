import ClawgateProtocol
import Foundation
import HTTPTypes
import NIOCore

/// Who may use the ClawLink API: whoever presents the gateway's shared secret (the token in
/// token mode, the password in password mode) as `Authorization: Bearer <secret>`, compared in
/// constant time. `?token=` is read only where the ClawLink client puts it, the `/ws/{agent_id}`
/// upgrade. Failed attempts go through the gateway's rate limiter (per client address; only a
/// direct loopback caller without a browser origin is exempt), and a locked-out address is
/// refused even with the right secret until the lockout ends. The other HTTP surfaces (seed
/// API, OpenAI API, `/metrics`) authenticate the same way; `surface` labels their failures in
/// the auth metrics.
struct ClawLinkAuth: Sendable {
    let gateway: GatewayCore
    var surface: AuthSurface = .clawlink

    enum Outcome: Equatable {
        case allowed
        case unauthorized
        case rateLimited(retryAfterMs: Int)
    }

    /// - surface: names the API in the audit log (`clawlink`, `clawlink.ws`, `seed-api`,
    ///   `openai`, `tools.invoke`).
    /// - countFailures: false for the upgrade decision: a refused upgrade falls through to the
    ///   HTTP route of the same path, which checks again and counts (and audits) the failure once.
    func check(
        surface: String, headers: HTTPFields, authority: String?, remote: SocketAddress?, query: String?, allowQueryToken: Bool,
        countFailures: Bool = true
    ) -> Outcome {
        let settings = gateway.settings
        let request = UpgradeRequest(remote: ClientAddress(remote), headers: headers, authority: authority)
        let key = request.clientAddress(trustedProxies: settings.trustedProxies)?.ip ?? "unknown"
        /// nil when the credential is valid, else the reason (a fixed set of codes, never the
        /// secret) for the audit log and, lowercased, the auth metrics.
        let failure: String?
        switch settings.authMode {
        case .none:
            gateway.auditHTTPAuth(surface: surface, allowed: true, reason: nil, remote: key)
            return .allowed
        case .token, .password:
            let isToken = settings.authMode == .token
            let secret = isToken ? settings.token : settings.password
            let presented = Self.bearer(headers) ?? (allowQueryToken ? Self.queryToken(query) : nil)
            if let presented, !presented.isEmpty {
                let valid = secret?.matches(presented) ?? false
                failure = valid ? nil
                    : isToken ? ConnectErrorDetailCode.authTokenMismatch : ConnectErrorDetailCode.authPasswordMismatch
            } else {
                failure = isToken ? ConnectErrorDetailCode.authTokenMissing : ConnectErrorDetailCode.authPasswordMissing
            }
        case .trustedProxy:
            failure = trustedProxyAdmits(request) ? nil : ConnectErrorDetailCode.authTrustedProxyRejected
        }
        if failure != nil && !countFailures { return .unauthorized }
        let limited = gateway.rateLimiter.applies(directLocal: request.isDirectLocal, hasBrowserOrigin: request.origin != nil)
        if limited, let retryAfter = gateway.rateLimiter.beginAttempt(key, nowMs: Clock.nowMs()) {
            gateway.metrics.authRateLimited(self.surface)
            gateway.auditHTTPAuth(surface: surface, allowed: false, reason: ConnectErrorDetailCode.authRateLimited, remote: key)
            return .rateLimited(retryAfterMs: retryAfter)
        }
        if let failure {
            gateway.metrics.authFailure(self.surface, reason: failure.lowercased())
            gateway.auditHTTPAuth(surface: surface, allowed: false, reason: failure, remote: key)
            return .unauthorized
        }
        if limited { gateway.rateLimiter.recordSuccess(key) }
        gateway.auditHTTPAuth(surface: surface, allowed: true, reason: nil, remote: key)
        return .allowed
    }

    /// Throws the 401 / 429 answer unless allowed.
    func require(
        surface: String, headers: HTTPFields, authority: String?, remote: SocketAddress?, query: String?,
        allowQueryToken: Bool = false
    ) throws(ClawLinkError) {
        switch check(
            surface: surface, headers: headers, authority: authority, remote: remote, query: query, allowQueryToken: allowQueryToken
        ) {
        case .allowed: return
        case .unauthorized: throw ClawLinkError.unauthorized
        case .rateLimited(let retryAfterMs): throw ClawLinkError.rateLimited(retryAfterMs: retryAfterMs)
        }
    }

    /// `Authorization: Bearer <secret>` (scheme case-insensitive).
    /// Read on every authenticated HTTP request, so it works on the header's bytes: Foundation's
    /// `lowercased()` and `trimmingCharacters(in:)` were ~3 % of a proxied chat completion's CPU.
    static func bearer(_ headers: HTTPFields) -> String? {
        guard let value = headers[.authorization] else { return nil }
        let bytes = Array(value.utf8)
        func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var start = 0
        while start < bytes.count, bytes[start] == UInt8(ascii: " ") { start += 1 }
        let scheme = Array("bearer".utf8)
        // ASCII case folding: the scheme is compared byte by byte with the low bit of case set.
        guard bytes.count - start > scheme.count,
            zip(bytes[start..<(start + scheme.count)], scheme).allSatisfy({ $0 | 0x20 == $1 }),
            bytes[start + scheme.count] == UInt8(ascii: " ")
        else { return nil }
        var lower = start + scheme.count
        var upper = bytes.count
        while lower < upper, isBlank(bytes[lower]) { lower += 1 }
        while upper > lower, isBlank(bytes[upper - 1]) { upper -= 1 }
        guard lower < upper else { return nil }
        return String(decoding: bytes[lower..<upper], as: UTF8.self)
    }

    /// `token=<secret>` of a query string.
    static func queryToken(_ query: String?) -> String? {
        guard let query, !query.isEmpty else { return nil }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == "token" else { continue }
            let raw = parts[1].replacingOccurrences(of: "+", with: " ")
            return raw.removingPercentEncoding ?? raw
        }
        return nil
    }

    /// trusted-proxy mode: the same test as for the gateway socket (a trusted proxy that sent the
    /// user header, the required headers and an allowed user).
    private func trustedProxyAdmits(_ request: UpgradeRequest) -> Bool {
        let settings = gateway.settings
        let config = settings.trustedProxy
        guard request.isFromTrustedProxy(settings.trustedProxies),
            let header = config.userHeader.flatMap({ HTTPField.Name($0) }),
            let user = request.headers[header], !user.isEmpty
        else { return false }
        for required in config.requiredHeaders {
            guard let name = HTTPField.Name(required), request.headers[name] != nil else { return false }
        }
        return config.allowUsers.isEmpty || config.allowUsers.contains(user)
    }
}
