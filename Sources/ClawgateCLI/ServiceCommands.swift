import ArgumentParser
import ClawgateGateway
import Foundation

/// `clawgate gateway install`: the systemd user unit, enabled and started when systemd is
/// reachable from here.
struct InstallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install the gateway as a systemd user service (~/.config/systemd/user/clawgate.service)."
    )

    @Option(help: "Port for the service's `gateway run` (default: from config/environment).")
    var port: Int?
    @Flag(name: .customLong("no-start"), help: "Only write the unit; do not run systemctl.")
    var noStart = false

    func validate() throws {
        if let port, !(1...65535).contains(port) { throw ValidationError("--port must be between 1 and 65535") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let paths = GatewayPaths.resolve(environment: environment)
        let service = SystemdUserService(executable: ServiceSupport.executablePath(), paths: paths, port: port, environment: environment)
        do {
            let written = try service.install()
            print(written ? "Wrote \(service.unitPath)" : "\(service.unitPath) is already up to date")
        } catch {
            throw Output.fail("cannot write \(service.unitPath): \(error)")
        }
        if let problem = ServiceSupport.configProblem(paths: paths) {
            print("warning: the service will not start until the config is fixed: \(problem) (see `clawgate doctor`)")
        }
        if noStart {
            ServiceSupport.printManual(SystemdUserService.manualInstallCommands)
            return
        }
        let systemctl: Systemctl
        do {
            systemctl = try Systemctl.locate(environment: environment)
        } catch {
            print("\(error.reason); start it by hand where a user systemd runs:")
            ServiceSupport.printManual(SystemdUserService.manualInstallCommands)
            return
        }
        for arguments in [["--user", "daemon-reload"], ["--user", "enable", "--now", SystemdUserService.unitName]] {
            let result = systemctl.run(arguments)
            guard result.status == 0 else {
                throw Output.fail("systemctl \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.output)")
            }
        }
        print("Enabled and started \(SystemdUserService.unitName) (systemctl --user status \(SystemdUserService.unitName)).")
        print("To keep it running after logout: loginctl enable-linger \(environment["USER"] ?? "$USER")")
    }
}

/// `clawgate gateway uninstall`: stops, disables and removes the unit.
struct UninstallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "uninstall", abstract: "Stop and remove the systemd user service.")

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let service = SystemdUserService(
            executable: ServiceSupport.executablePath(), paths: GatewayPaths.resolve(environment: environment), environment: environment
        )
        guard service.isInstalled else {
            print("Not installed (no \(service.unitPath)).")
            return
        }
        let systemctl = try? Systemctl.locate(environment: environment)
        if let systemctl {
            // Not running or not loaded is fine: the goal is "gone".
            let disabled = systemctl.run(["--user", "disable", "--now", SystemdUserService.unitName])
            if disabled.status != 0 { print("note: systemctl disable: \(disabled.output)") }
        }
        do {
            try service.uninstall()
        } catch {
            throw Output.fail("cannot remove \(service.unitPath): \(error)")
        }
        print("Removed \(service.unitPath)")
        if let systemctl {
            _ = systemctl.run(["--user", "daemon-reload"])
        } else {
            print("systemctl --user is not usable here; if the service ran elsewhere, run: systemctl --user disable --now \(SystemdUserService.unitName) && systemctl --user daemon-reload")
        }
    }
}

/// `clawgate gateway restart`: restarts the installed service, after checking the config
/// (a restart into a broken config would only stop the gateway).
struct RestartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restart", abstract: "Restart the systemd user service.")

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let paths = GatewayPaths.resolve(environment: environment)
        let service = SystemdUserService(executable: ServiceSupport.executablePath(), paths: paths, environment: environment)
        guard service.isInstalled else {
            throw Output.fail("the gateway service is not installed (no \(service.unitPath)); install it with `clawgate gateway install`")
        }
        if let problem = ServiceSupport.configProblem(paths: paths) {
            throw Output.fail("not restarting: the config is invalid, the gateway would not come back: \(problem) (see `clawgate doctor`)")
        }
        let systemctl: Systemctl
        do {
            systemctl = try Systemctl.locate(environment: environment)
        } catch {
            throw Output.fail("cannot restart the service: \(error.reason) (run `systemctl --user restart \(SystemdUserService.unitName)` where the user manager runs)")
        }
        let result = systemctl.run(["--user", "restart", SystemdUserService.unitName])
        guard result.status == 0 else {
            throw Output.fail("systemctl --user restart \(SystemdUserService.unitName) failed (\(result.status)): \(result.output)")
        }
        print("Restarted \(SystemdUserService.unitName).")
    }
}

enum ServiceSupport {
    /// The running binary, so the unit starts exactly this build.
    static func executablePath() -> String {
        #if os(Linux)
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return resolved }
        #endif
        let argument = CommandLine.arguments[0]
        if argument.hasPrefix("/") { return argument }
        return URL(fileURLWithPath: argument, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL.path
    }

    /// Why the gateway would refuse to start with this config, or nil.
    static func configProblem(paths: GatewayPaths) -> String? {
        do {
            let config = try ConfigParser.load(path: paths.configPath)
            _ = try GatewaySettings.resolve(config: config, paths: paths)
            return nil
        } catch {
            return "\(error)"
        }
    }

    static func printManual(_ commands: [String]) {
        for command in commands { print("  \(command)") }
    }
}
