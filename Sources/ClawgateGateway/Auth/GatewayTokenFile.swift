import ClawgateSupport
import Foundation

/// The token generated on first start when no shared secret is configured, kept in
/// `<stateDir>/credentials/gateway-token` (mode 0600) so restarts and local CLI calls reuse it.
public enum GatewayTokenFile {
    public static func load(paths: GatewayPaths) -> Secret? {
        guard let data = FileManager.default.contents(atPath: paths.gatewayTokenFile),
            let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
            !text.isEmpty
        else { return nil }
        return Secret(text)
    }

    /// Returns the stored token, creating one when there is none.
    public static func loadOrCreate(paths: GatewayPaths) throws -> (token: Secret, created: Bool) {
        if let existing = load(paths: paths) {
            // Tighten permissions if someone loosened them.
            chmod(paths.gatewayTokenFile, 0o600)
            return (existing, false)
        }
        let token = Secret.generate()
        try AtomicFile.write(Data((token.reveal() + "\n").utf8), to: paths.gatewayTokenFile, mode: 0o600)
        return (token, true)
    }
}
