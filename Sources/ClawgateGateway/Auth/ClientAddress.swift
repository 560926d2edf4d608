import Foundation
import NIOCore

/// A client's IP address in canonical form: IPv4-mapped IPv6 (`::ffff:1.2.3.4`) becomes plain
/// IPv4, so one client cannot dodge the rate limiter by switching notation.
public struct ClientAddress: Sendable, Hashable, CustomStringConvertible {
    public let ip: String
    public let isLoopback: Bool

    public init?(ip rawIP: String) {
        var text = rawIP.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("[") && text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if let zone = text.firstIndex(of: "%") { text = String(text[..<zone]) }
        let lower = text.lowercased()
        if lower.hasPrefix("::ffff:"), Self.isIPv4(String(lower.dropFirst(7))) {
            text = String(lower.dropFirst(7))
        }
        if Self.isIPv4(text) {
            self.ip = text
            self.isLoopback = Self.isLoopbackIPv4(text)
        } else if let canonical = Self.canonicalIPv6(lower) {
            self.ip = canonical
            self.isLoopback = canonical == "::1"
        } else {
            return nil
        }
    }

    public init?(_ socketAddress: SocketAddress?) {
        guard let socketAddress, let ip = socketAddress.ipAddress else { return nil }
        if case .v4 = socketAddress {
            // Already the dotted quad `init(ip:)` would produce; every request comes by here.
            self.init(canonical: ip, isLoopback: Self.isLoopbackIPv4(ip))
        } else {
            self.init(ip: ip)
        }
    }

    private init(canonical ip: String, isLoopback: Bool) {
        self.ip = ip
        self.isLoopback = isLoopback
    }

    public var description: String { ip }

    /// 127.0.0.0/8, of a dotted quad.
    static func isLoopbackIPv4(_ text: String) -> Bool {
        text.hasPrefix("127.")
    }

    static func isIPv4(_ text: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, text, &address) == 1
    }

    static func canonicalIPv6(_ text: String) -> String? {
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
