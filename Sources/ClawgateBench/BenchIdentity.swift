import ClawgateClient
import ClawgateProtocol
import Foundation
import Logging

/// How the load generator's clients identify themselves to the gateway.
///
/// Scoped clients (`health` needs `operator.read`, `mesh.*` needs `operator.write`) share one
/// Ed25519 device, paired once on loopback (auto-approved) and then presenting the shared token,
/// a fresh device signature and the device token it was issued. They connect as `cli` clients:
/// the gateway keeps those out of presence. Agent processes that connect as `gateway-client` /
/// `backend` are in presence, and every connect or close sends the whole presence list to every
/// connection (O(N²) bytes, see BENCHMARKS.md). With hundreds or thousands of such clients the
/// setup would measure that storm for minutes instead of the scenario.
struct BenchIdentity: Sendable {
    let target: BenchTarget
    let device: DeviceIdentity
    let deviceToken: String?
    let scopes: [String]

    static let client = ClientInfo(id: "cli", version: "bench", platform: "linux", mode: "cli")

    /// Pairs a new device with `scopes` (the first connect on loopback is auto-approved).
    static func pair(_ target: BenchTarget, scopes: [String] = [OperatorScope.read, OperatorScope.write]) async throws -> BenchIdentity {
        let device = DeviceIdentity()
        let options = GatewayClientOptions(
            url: target.url, token: target.token, client: client, scopes: scopes, device: device, connectTimeout: .seconds(30)
        )
        let hello = try await GatewayClient.withConnection(options, logger: Logger(label: "clawgate-bench")) { connection in
            connection.hello
        }
        let granted = hello.auth?.scopes ?? []
        guard scopes.allSatisfy({ granted.contains($0) }) else {
            throw BenchError.setup(
                "the bench device was admitted with scopes \(granted), not \(scopes): the gateway must auto-approve loopback pairing "
                    + "(gateway.nodes.pairing.autoApproveLocal, on by default) and be reached over loopback"
            )
        }
        return BenchIdentity(target: target, device: device, deviceToken: hello.auth?.deviceToken, scopes: scopes)
    }

    /// Options for one more connection of this device.
    func options(connectTimeout: Duration = .seconds(30), requestTimeout: Duration = .seconds(30)) -> GatewayClientOptions {
        GatewayClientOptions(
            url: target.url, token: target.token, deviceToken: deviceToken, client: Self.client, scopes: scopes, device: device,
            connectTimeout: connectTimeout, requestTimeout: requestTimeout
        )
    }
}
