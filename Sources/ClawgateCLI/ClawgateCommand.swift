import ArgumentParser
import ClawgateGateway

/// `clawgate`: the gateway and the commands that talk to it.
public struct ClawgateCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "clawgate",
        abstract: "Clawgate — an OpenClaw gateway and multi-agent coordination hub.",
        version: GatewaySettings.version,
        subcommands: [
            GatewayCommand.self, DevicesCommand.self, MeshCommand.self, AgentCommand.self, SessionsCommand.self, ModelsCommand.self,
            ConfigCommand.self,
            AuditCommand.self, DoctorCommand.self,
        ],
        defaultSubcommand: GatewayCommand.self
    )

    public init() {}
}

struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Run the gateway, query a running one, or install it as a service.",
        subcommands: [
            RunCommand.self, StatusCommand.self, HealthCommand.self, ProbeCommand.self, CallCommand.self, InstallCommand.self,
            UninstallCommand.self, RestartCommand.self,
        ],
        defaultSubcommand: RunCommand.self
    )
}

struct DevicesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List, approve and reject device pairing requests.",
        subcommands: [DevicesListCommand.self, DevicesApproveCommand.self, DevicesRejectCommand.self, DevicesRemoveCommand.self]
    )
}
