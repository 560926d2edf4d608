import Foundation
import HTTPTypes
import NIOCore

/// Which WebSocket upgrades are ClawLink push sockets: `/ws/{agent_id}` (every other path is
/// the gateway socket). The upgrade needs the shared secret (header or `?token=`) and a
/// registered agent; a refused upgrade falls through to the HTTP route of the same path,
/// which answers 401 / 429 / 404 with the usual `{"error"}` body.
enum ClawLinkUpgrade {
    /// The agent id of a `/ws/{agent_id}` path (query string allowed), else nil.
    static func agentId(path: String?) -> String? {
        guard let path else { return nil }
        let pathOnly = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? path
        guard pathOnly.hasPrefix("/ws/") else { return nil }
        let raw = String(pathOnly.dropFirst(4))
        guard !raw.isEmpty, !raw.contains("/") else { return nil }
        return raw.removingPercentEncoding ?? raw
    }

    static func query(path: String?) -> String? {
        guard let path, let mark = path.firstIndex(of: "?") else { return nil }
        return String(path[path.index(after: mark)...])
    }

    /// Whether `/ws/{agentId}` may open: the shared secret and a registered agent.
    static func allows(_ request: HTTPRequest, remote: SocketAddress?, agentId: String, gateway: GatewayCore) async -> Bool {
        let auth = ClawLinkAuth(gateway: gateway).check(
            surface: "clawlink.ws", headers: request.headerFields, authority: request.authority, remote: remote,
            query: query(path: request.path), allowQueryToken: true, countFailures: false
        )
        guard auth == .allowed else { return false }
        return (try? await ClawLinkRelay(gateway: gateway).knownAgent(agentId)) != nil
    }
}
