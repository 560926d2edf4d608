import ClawgateGateway
import Foundation
import Testing

/// `clawgate gateway install|uninstall|restart` through the built binary, into a temporary
/// `XDG_CONFIG_HOME` (never the real one).
@Suite("Service install")
struct ServiceInstallTests {
    @Test func installWritesTheUnitAndUninstallRemovesIt() async throws {
        let dir = try CLIProcessTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let stateDir = dir + "/state dir %h"
        let configHome = dir + "/xdg"
        // No systemctl on this PATH: the command says so and prints what to run.
        let environment = CLIProcessTests.environment(
            stateDir: stateDir, extra: ["XDG_CONFIG_HOME": configHome, "HOME": dir, "PATH": dir + "/no-bin"]
        )
        let unitPath = configHome + "/systemd/user/clawgate.service"

        let install = try await CLIProcessTests.run(["gateway", "install", "--port", "18999"], environment: environment)
        #expect(install.status == 0, "stderr: \(install.stderr)")
        #expect(install.stdout.contains("Wrote \(unitPath)"))
        #expect(install.stdout.contains("systemctl not found on PATH; start it by hand"))
        #expect(install.stdout.contains("  systemctl --user enable --now clawgate.service"))

        let unit = try String(contentsOfFile: unitPath, encoding: .utf8)
        let binary = URL(fileURLWithPath: CLIProcessTests.binary).resolvingSymlinksInPath().path
        #expect(unit.contains("ExecStart=\"\(binary)\" \"gateway\" \"run\" \"--port\" \"18999\"\n"), "\(unit)")
        #expect(unit.contains("Restart=on-failure\n"))
        #expect(unit.contains("RestartPreventExitStatus=78\n"))
        #expect(unit.contains("StartLimitIntervalSec=300\n"))
        #expect(unit.contains("StartLimitBurst=5\n"))
        #expect(unit.contains("WantedBy=default.target\n"))
        // The state dir travels with the unit; `%` is escaped for systemd, spaces are quoted.
        #expect(unit.contains("Environment=\"OPENCLAW_STATE_DIR=\(dir)/state dir %%h\"\n"))
        #expect(unit.contains("Environment=\"OPENCLAW_CONFIG_PATH=\(dir)/state dir %%h/clawgate.json\"\n"))
        #expect(!unit.lowercased().contains("token"))

        // Installing again changes nothing; `--no-start` never runs systemctl.
        let again = try await CLIProcessTests.run(["gateway", "install", "--port", "18999", "--no-start"], environment: environment)
        #expect(again.status == 0)
        #expect(again.stdout.contains("\(unitPath) is already up to date"))

        // Restart needs systemd: a clear error, not a silent success.
        let restart = try await CLIProcessTests.run(["gateway", "restart"], environment: environment)
        #expect(restart.status == 1)
        #expect(restart.stderr.contains("cannot restart the service: systemctl not found on PATH"))

        let uninstall = try await CLIProcessTests.run(["gateway", "uninstall"], environment: environment)
        #expect(uninstall.status == 0, "stderr: \(uninstall.stderr)")
        #expect(uninstall.stdout.contains("Removed \(unitPath)"))
        #expect(!FileManager.default.fileExists(atPath: unitPath))
        let twice = try await CLIProcessTests.run(["gateway", "uninstall"], environment: environment)
        #expect(twice.stdout.contains("Not installed"))
        let notInstalled = try await CLIProcessTests.run(["gateway", "restart"], environment: environment)
        #expect(notInstalled.status == 1)
        #expect(notInstalled.stderr.contains("the gateway service is not installed"))
    }

    @Test func installWarnsAboutAnInvalidConfigAndRestartRefusesIt() async throws {
        let dir = try CLIProcessTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "{ gateway: { prot: 1 } }".write(toFile: dir + "/clawgate.json", atomically: true, encoding: .utf8)
        let environment = CLIProcessTests.environment(stateDir: dir, extra: ["XDG_CONFIG_HOME": dir + "/xdg"])
        let install = try await CLIProcessTests.run(["gateway", "install", "--no-start"], environment: environment)
        #expect(install.status == 0)
        #expect(install.stdout.contains("warning: the service will not start until the config is fixed"))
        #expect(install.stdout.contains("gateway.prot: unknown key"))
        let restart = try await CLIProcessTests.run(["gateway", "restart"], environment: environment)
        #expect(restart.status == 1)
        #expect(restart.stderr.contains("not restarting: the config is invalid"))
        let badPort = try await CLIProcessTests.run(["gateway", "install", "--port", "70000"], environment: environment)
        #expect(badPort.status != 0)
        #expect(badPort.stderr.contains("--port must be between 1 and 65535"))
    }

    @Test func relativeXDGConfigHomeIsIgnored() {
        let service = SystemdUserService(
            executable: "/usr/local/bin/clawgate", paths: GatewayPaths(stateDir: "/srv/claw"),
            environment: ["XDG_CONFIG_HOME": "relative/dir", "HOME": "/home/op"]
        )
        #expect(service.unitPath == "/home/op/.config/systemd/user/clawgate.service")
        #expect(service.render().contains("ExecStart=\"/usr/local/bin/clawgate\" \"gateway\" \"run\"\n"))
    }
}
