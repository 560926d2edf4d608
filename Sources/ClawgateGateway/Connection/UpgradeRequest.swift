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

    /// The client's address. Behind a trusted proxy it is the rightmost `X-Forwarded-For` entry
    /// that is not itself a trusted proxy (entries to its left are client-controlled); otherwise
    /// the socket peer.
    func clientAddress(trustedProxies: [ClientAddress]) -> ClientAddress? {
        let header = headers[values: Self.forwardedFor].joined(separator: ",")
        guard isFromTrustedProxy(trustedProxies), !header.isEmpty else { return remote }
        let hops = header.split(separator: ",").compactMap { ClientAddress(ip: String($0)) }
        return hops.last { !trustedProxies.contains($0) } ?? remote
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
