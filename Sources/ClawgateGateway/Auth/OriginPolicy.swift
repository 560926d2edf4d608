import Foundation

/// Which browser origins may open a gateway socket.
///
/// Seeded with the loopback origins of the effective port (a page served by this gateway or
/// a local dev server on the same port), plus `gateway.controlUi.allowedOrigins`.
public struct OriginPolicy: Sendable, Equatable {
    public private(set) var allowed: Set<String>

    public init(port: Int, bind: BindMode, customHost: String?, configured: [String]) {
        var allowed = Set<String>()
        var hosts = ["localhost", "127.0.0.1", "[::1]"]
        if bind == .custom, let customHost {
            hosts.append(customHost.contains(":") && !customHost.hasPrefix("[") ? "[\(customHost)]" : customHost)
        }
        for host in hosts {
            for scheme in ["http", "https"] {
                allowed.insert("\(scheme)://\(host):\(port)")
            }
        }
        for origin in configured {
            if let normalized = Self.normalize(origin) { allowed.insert(normalized) }
        }
        self.allowed = allowed
    }

    /// Browsers send `http(s)://…` (or `null`); non-browser WebSocket clients that set an
    /// Origin at all use their own URL (`ws://…`). Only browser origins are policed — the check
    /// exists to stop web pages, not programs that can send any header they like.
    public static func isBrowserOrigin(_ origin: String) -> Bool {
        let lowered = origin.trimmingCharacters(in: .whitespaces).lowercased()
        return lowered == "null" || lowered.hasPrefix("http://") || lowered.hasPrefix("https://")
    }

    /// A direct loopback client may also come from a page on any loopback port (a local dev
    /// server, an SSH port forward); anything else must be in the allowlist.
    public func isAllowed(_ origin: String, directLocal: Bool = false) -> Bool {
        guard let normalized = Self.normalize(origin) else { return false }
        if allowed.contains(normalized) { return true }
        guard directLocal, let host = URLComponents(string: normalized)?.host?.lowercased() else { return false }
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        return bare == "localhost" || (ClientAddress(ip: bare)?.isLoopback ?? false)
    }

    /// `scheme://host[:port]`, lower-cased, default ports made explicit; nil if not an origin.
    public static func normalize(_ origin: String) -> String? {
        let trimmed = origin.trimmingCharacters(in: .whitespaces)
        guard let components = URLComponents(string: trimmed), let scheme = components.scheme?.lowercased(),
            let host = components.host?.lowercased(), !host.isEmpty,
            components.path.isEmpty || components.path == "/", components.query == nil
        else { return nil }
        let port = components.port ?? (scheme == "https" ? 443 : scheme == "http" ? 80 : -1)
        guard port > 0 else { return nil }
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(scheme)://\(hostPart):\(port)"
    }
}
