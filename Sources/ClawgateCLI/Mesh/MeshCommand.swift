import ArgumentParser

/// `clawgate mesh …`: take part in the agent mesh from a shell. The CLI acts as one agent of
/// its own (registered once, stored under the state dir), so scripts and people can delegate,
/// pick up and answer tasks without writing a client.
struct MeshCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mesh",
        abstract: "Act as a mesh agent: register, discover, delegate, poll and answer tasks.",
        discussion: """
            Run `clawgate mesh register` once; it stores this CLI's agent id and credential in \
            <stateDir>/identity/mesh-agent.json (mode 0600). Every other mesh command acts as that agent.
            """,
        subcommands: [
            MeshRegisterCommand.self, MeshDiscoverCommand.self,
            MeshDelegateCommand.self, MeshCancelCommand.self,
            MeshPollCommand.self, MeshAckCommand.self,
            MeshAcceptCommand.self, MeshRejectCommand.self, MeshUpdateCommand.self, MeshCompleteCommand.self, MeshFailCommand.self,
            MeshRespondCommand.self,
            MeshTasksCommand.self, MeshTaskCommand.self, MeshEventsCommand.self,
            MeshBroadcastCommand.self, MeshBroadcastsCommand.self, MeshFilesCommand.self, MeshStateCommand.self,
        ]
    )
}
