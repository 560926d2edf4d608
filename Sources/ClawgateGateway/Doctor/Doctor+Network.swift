import Foundation
import NIOCore
import NIOPosix

extension Doctor {
    /// The configured port must be free, or held by this state dir's own running gateway.
    func checkPort(settings: GatewaySettings?, config: GatewayConfig?) async -> DoctorFinding {
        let port = settings?.port
            ?? environment["OPENCLAW_GATEWAY_PORT"].flatMap(Int.init) ?? config?.gateway.port ?? GatewaySettings.defaultPort
        let host = settings?.bindHosts.first ?? "127.0.0.1"
        if port == 0 { return DoctorFinding(check: "port", status: .ok, message: "port 0: the gateway picks a free port") }
        guard let bindError = await Self.tryBind(host: host, port: port) else {
            return DoctorFinding(check: "port", status: .ok, message: "port \(port) on \(host) is free")
        }
        if let instance = GatewayInstanceFile.running(stateDir: paths.stateDir), instance.port == port {
            return DoctorFinding(
                check: "port", status: .ok, message: "port \(port) is held by this state dir's gateway (pid \(instance.pid))"
            )
        }
        let probeHost = host == "0.0.0.0" ? "127.0.0.1" : host
        if await GatewayScanner.answersHealth(host: probeHost, port: port) {
            return DoctorFinding(
                check: "port", status: .problem,
                message: "port \(port) is held by another gateway (not this state dir's): stop it or choose another gateway.port"
            )
        }
        return DoctorFinding(check: "port", status: .problem, message: "port \(port) on \(host) is not available: \(bindError)")
    }

    /// nil when `host:port` could be bound (and was released at once), else why not.
    static func tryBind(host: String, port: Int) async -> String? {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
        do {
            let channel = try await bootstrap.bind(host: host, port: port).get()
            try? await channel.close()
            return nil
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            return "address already in use"
        } catch {
            return "\(error)"
        }
    }

    /// Every configured provider's base URL must accept a TCP connection.
    func checkProviders(config: GatewayConfig?) async -> [DoctorFinding] {
        guard let providers = config?.agents.providers, !providers.isEmpty else {
            return [DoctorFinding(check: "providers", status: .ok, message: "no model providers configured")]
        }
        let timeout = providerTimeout
        return await withTaskGroup(of: (Int, DoctorFinding).self) { group in
            for (index, provider) in providers.enumerated() {
                group.addTask {
                    let endpoint = ReachabilityProbe.endpoint(of: provider.baseUrl).map { "\($0.host):\($0.port)" } ?? provider.baseUrl
                    if let failure = await ReachabilityProbe.probe(baseURL: provider.baseUrl, timeout: timeout) {
                        return (index, DoctorFinding(check: "providers", status: .problem, message: "provider \(provider.id): \(failure)"))
                    }
                    return (index, DoctorFinding(check: "providers", status: .ok, message: "provider \(provider.id): \(endpoint) reachable"))
                }
            }
            var findings: [(Int, DoctorFinding)] = []
            for await finding in group { findings.append(finding) }
            return findings.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}
