import Foundation
import NIOCore
import NIOPosix

/// Whether a TCP endpoint accepts connections: the cheap probe behind `/ready`'s provider
/// components and `clawgate doctor`. Only DNS and a TCP handshake, never an HTTP request, so a
/// provider sees no traffic, no credentials and no cost from it.
public enum ReachabilityProbe {
    /// The host and port of an `http(s)://` base URL, or nil when it has no host.
    public static func endpoint(of baseURL: String) -> (host: String, port: Int)? {
        guard let url = URL(string: baseURL), let host = url.host, !host.isEmpty else { return nil }
        let scheme = url.scheme?.lowercased()
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return (bare, port)
    }

    /// nil when `host:port` accepted a TCP connection within `timeout`, else why not.
    public static func tcp(host: String, port: Int, timeout: Duration = .seconds(3)) async -> String? {
        let milliseconds = max(1, Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(milliseconds))
        do {
            let channel = try await bootstrap.connect(host: host, port: port).get()
            try? await channel.close()
            return nil
        } catch {
            return "\(host):\(port) unreachable (\(describe(error)))"
        }
    }

    /// Probes a provider base URL; nil when reachable.
    public static func probe(baseURL: String, timeout: Duration = .seconds(3)) async -> String? {
        guard let endpoint = endpoint(of: baseURL) else { return "base URL has no host: \(baseURL)" }
        return await tcp(host: endpoint.host, port: endpoint.port, timeout: timeout)
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return describe(first.error) }
            if error.dnsAAAAError != nil || error.dnsAError != nil { return "DNS lookup failed" }
            return "no address to connect to"
        }
        if let error = error as? IOError {
            return String(cString: strerror(error.errnoCode)).lowercased()
        }
        if error is ChannelError { return "\(error)" }
        return "\(error)"
    }
}
