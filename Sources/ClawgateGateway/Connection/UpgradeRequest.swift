import HTTPTypes
import NIOCore

/// What the gateway remembers of the HTTP upgrade request: who is connecting and from where.
struct UpgradeRequest: Sendable {
    let remote: ClientAddress?
    /// The browser origin, when the request came from a web page.
    let origin: String?
    let host: String?
    let headers: HTTPFields

    init(remote: ClientAddress?, headers: HTTPFields, authority: String?) {
        self.remote = remote
        self.headers = headers
        // Look at each Origin field on its own: some WebSocket client libraries add their own
        // `Origin: ws://host` before one set by the caller, and the combined value
        // ("ws://host, http://page") would hide the browser origin from the policy. Several
        // browser origins stay combined, which no allowlist entry matches (fail closed).
        let browserOrigins = headers[values: .origin].filter { OriginPolicy.isBrowserOrigin($0) }
        self.origin = browserOrigins.isEmpty ? nil : browserOrigins.joined(separator: ", ")
        self.host = authority
    }

    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let realIP = HTTPField.Name("X-Real-IP")!
    static let forwarded = HTTPField.Name("Forwarded")!

    var hasForwardingHeaders: Bool {
        headers[Self.forwardedFor] != nil || headers[Self.realIP] != nil || headers[Self.forwarded] != nil
    }

    func isFromTrustedProxy(_ trusted: [ClientAddress]) -> Bool {
        guard let remote else { return false }
        return trusted.contains(remote)
    }

    /// The client's address: the proxy's `X-Forwarded-For` origin when the proxy is trusted,
    /// the socket peer otherwise.
    func clientAddress(trustedProxies: [ClientAddress]) -> ClientAddress? {
        if isFromTrustedProxy(trustedProxies),
            let first = headers[Self.forwardedFor]?.split(separator: ",").first,
            let address = ClientAddress(ip: String(first))
        {
            return address
        }
        return remote
    }

    /// A direct loopback connection: loopback peer, no proxy headers, a local `Host`.
    /// Anything else is treated as remote (prevents auth bypass behind reverse proxies).
    var isDirectLocal: Bool {
        guard let remote, remote.isLoopback, !hasForwardingHeaders else { return false }
        guard let host else { return true }
        let name: Substring
        if host.hasPrefix("["), let end = host.firstIndex(of: "]") {
            name = host[host.index(after: host.startIndex)..<end]
        } else {
            name = host.split(separator: ":", maxSplits: 1).first ?? ""
        }
        let lowered = name.lowercased()
        if lowered == "localhost" { return true }
        return ClientAddress(ip: lowered)?.isLoopback ?? false
    }
}
