import AsyncHTTPClient
import ClawgateProtocol
import Foundation
import NIOCore

/// Finds other gateways on this machine, for `clawgate gateway status --deep` and `doctor`:
/// listeners on nearby loopback ports that answer `GET /health` the way Clawgate and OpenClaw
/// do, and state dirs whose `gateway.pid` names a live process.
public enum GatewayScanner {
    /// Another gateway, and how it was found.
    public struct Sighting: Codable, Sendable, Equatable {
        /// `port` (answered on a nearby port) or `state-dir` (a live instance file).
        public var source: String
        public var url: String
        public var port: Int
        public var stateDir: String?
        public var pid: Int32?
    }

    /// OpenClaw's default port and the ten after it, and ten either side of `port`.
    public static func nearbyPorts(around port: Int) -> [Int] {
        let defaults = Array(GatewaySettings.defaultPort...(GatewaySettings.defaultPort + 10))
        let around = Array(max(1, port - 10)...min(65535, port + 10))
        return Array(Set(defaults + around)).sorted()
    }

    /// State dirs a gateway of this user may run from: the current one, Clawgate's and
    /// OpenClaw's defaults.
    public static func knownStateDirs(current: String, environment: [String: String]) -> [String] {
        let home = environment["HOME"] ?? NSHomeDirectory()
        var dirs = [current]
        for name in [".clawgate", ".openclaw"] {
            let dir = (home as NSString).appendingPathComponent(name)
            if !dirs.contains(dir) { dirs.append(dir) }
        }
        return dirs
    }

    /// Whether `GET http://host:port/health` answers like a gateway's liveness probe:
    /// 200 with a JSON object whose `ok` is true (`{"ok":true,"status":"live"}`).
    public static func answersHealth(host: String, port: Int, timeout: Duration = .milliseconds(800)) async -> Bool {
        let shown = host.contains(":") ? "[\(host)]" : host
        var request = HTTPClientRequest(url: "http://\(shown):\(port)/health")
        request.method = .GET
        let milliseconds = Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(max(1, milliseconds)))
            guard response.status == .ok else { return false }
            let body = try await response.body.collect(upTo: 4096)
            let value = try JSONCoding.decode(JSONValue.self, from: Data(body.readableBytesView))
            return value["ok"] == .bool(true)
        } catch {
            return false
        }
    }

    /// Every other gateway: answering on a nearby port or recorded as running in a known state
    /// dir — except the one on `excludingPort`, the gateway being talked to.
    public static func scan(
        aroundPort port: Int, excludingPort: Int?, currentStateDir: String, environment: [String: String]
    ) async -> [Sighting] {
        let candidates = nearbyPorts(around: port).filter { $0 != excludingPort }
        let answering = await withTaskGroup(of: Int?.self) { group in
            for candidate in candidates {
                group.addTask { await answersHealth(host: "127.0.0.1", port: candidate) ? candidate : nil }
            }
            var ports: [Int] = []
            for await found in group { if let found { ports.append(found) } }
            return ports.sorted()
        }
        var sightings = answering.map { Sighting(source: "port", url: "ws://127.0.0.1:\($0)", port: $0, stateDir: nil, pid: nil) }
        for dir in knownStateDirs(current: currentStateDir, environment: environment) {
            guard let instance = GatewayInstanceFile.running(stateDir: dir) else { continue }
            if instance.port == excludingPort { continue }  // the gateway being talked to
            if let index = sightings.firstIndex(where: { $0.port == instance.port }) {
                sightings[index].stateDir = instance.stateDir
                sightings[index].pid = instance.pid
            } else {
                sightings.append(
                    Sighting(source: "state-dir", url: instance.url, port: instance.port, stateDir: instance.stateDir, pid: instance.pid)
                )
            }
        }
        return sightings
    }
}
