import ClawgateSupport
import Foundation

/// The systemd user unit that runs the gateway (`clawgate gateway install`):
/// `$XDG_CONFIG_HOME/systemd/user/clawgate.service` (default `~/.config/systemd/user`).
///
/// `Restart=on-failure` brings a crashed gateway back, but a bad config must not become a
/// restart storm: the gateway exits 78 (EX_CONFIG) on invalid configuration, which
/// `RestartPreventExitStatus=78` exempts, and `StartLimitIntervalSec`/`StartLimitBurst` stop
/// any other failure loop. The unit carries the state dir and config path, never a secret.
public struct SystemdUserService: Sendable {
    public static let unitName = "clawgate.service"

    /// Absolute path of the `clawgate` binary to run.
    public var executable: String
    public var paths: GatewayPaths
    /// `--port` for `gateway run`, when the install asked for one.
    public var port: Int?
    /// For `XDG_CONFIG_HOME` and `HOME`.
    public var environment: [String: String]

    public init(executable: String, paths: GatewayPaths, port: Int? = nil, environment: [String: String]) {
        self.executable = executable
        self.paths = paths
        self.port = port
        self.environment = environment
    }

    /// Where the unit file goes. A relative `XDG_CONFIG_HOME` is ignored, as the XDG spec says.
    public var unitPath: String {
        let configHome = environment["XDG_CONFIG_HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) as NSString).appendingPathComponent(".config")
        return (configHome as NSString).appendingPathComponent("systemd/user/\(Self.unitName)")
    }

    public func render() -> String {
        var command = [executable, "gateway", "run"]
        if let port { command += ["--port", String(port)] }
        return """
            # Written by `clawgate gateway install`; `clawgate gateway uninstall` removes it.
            [Unit]
            Description=Clawgate gateway (OpenClaw protocol, agent mesh)
            After=network-online.target
            Wants=network-online.target
            # At most 5 starts in 5 minutes, then systemd gives up (no restart storm).
            StartLimitIntervalSec=300
            StartLimitBurst=5

            [Service]
            Type=simple
            ExecStart=\(command.map(Self.quoted).joined(separator: " "))
            Environment=\(Self.quoted("OPENCLAW_STATE_DIR=\(paths.stateDir)"))
            Environment=\(Self.quoted("OPENCLAW_CONFIG_PATH=\(paths.configPath)"))
            Restart=on-failure
            RestartSec=5
            # Exit code 78 means invalid configuration: restarting cannot fix that.
            RestartPreventExitStatus=78
            # SIGTERM sends `shutdown` to every client and drains within 15 s.
            KillSignal=SIGTERM
            TimeoutStopSec=30
            UMask=0077
            NoNewPrivileges=yes

            [Install]
            WantedBy=default.target

            """
    }

    /// A value for systemd: double-quoted, `\` and `"` escaped, `%` doubled (specifiers).
    static func quoted(_ value: String) -> String {
        let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "%", with: "%%")
        return "\"\(escaped)\""
    }

    /// Writes the unit; returns false when an identical one was already there.
    @discardableResult
    public func install() throws -> Bool {
        let content = render()
        if let existing = FileManager.default.contents(atPath: unitPath), String(decoding: existing, as: UTF8.self) == content {
            return false
        }
        try AtomicFile.write(Data(content.utf8), to: unitPath, mode: 0o644)
        return true
    }

    /// Removes the unit; returns false when there was none.
    @discardableResult
    public func uninstall() throws -> Bool {
        guard FileManager.default.fileExists(atPath: unitPath) else { return false }
        try FileManager.default.removeItem(atPath: unitPath)
        return true
    }

    public var isInstalled: Bool { FileManager.default.fileExists(atPath: unitPath) }

    /// The commands to run by hand when `systemctl --user` is not usable from here.
    public static let manualInstallCommands = [
        "systemctl --user daemon-reload", "systemctl --user enable --now \(unitName)",
    ]
}
