import ArgumentParser
import ClawgateProtocol
import Foundation

/// `clawgate mesh register`: makes this CLI a mesh agent, or updates the one it already is.
///
/// The credential comes back only on first registration, so it goes straight into the identity
/// file and is never printed. Re-running presents it, which keeps the same agent id (and its
/// tasks) while replacing the profile.
struct MeshRegisterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register", abstract: "Register this CLI as a mesh agent (again: update its profile)."
    )

    @OptionGroup var client: ClientOptions
    @Option(help: "Agent id to ask for (default: the stored one, else one the gateway makes up).") var id: String?
    @Option(help: "Display name.") var name: String?
    @Option(help: "Namespace (default: the stored one, else \"default\").") var namespace: String?
    @Option(help: "Capabilities, comma-separated (e.g. code,review).") var caps: String?
    @Option(help: "Agent types, comma-separated.") var types: String?
    @Option(name: .customLong("max-concurrent"), help: "Tasks this agent takes at once.") var maxConcurrent: Int?
    @Option(name: .customLong("description"), help: "What this agent is for.") var agentDescription: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await MeshSession.run {
            let file = MeshIdentityFile.resolve()
            let stored = try file.load()
            let resolved = try client.resolve()
            let url = resolved.options.url
            // The same agent on the same gateway: present the credential and keep the id.
            let previous = stored.flatMap { $0.url == url && (id == nil || id == $0.agentId) ? $0 : nil }
            if let stored, previous == nil {
                FileHandle.standardError.write(
                    Data("clawgate: note: replacing mesh agent \(stored.agentId) (registered with \(stored.url)) in \(file.path)\n".utf8)
                )
            }
            let profile = MeshIdentity.Profile(
                name: name ?? previous?.profile.name,
                capabilities: MeshArgs.list(caps) ?? previous?.profile.capabilities,
                agentTypes: MeshArgs.list(types) ?? previous?.profile.agentTypes,
                maxConcurrentTasks: maxConcurrent ?? previous?.profile.maxConcurrentTasks,
                description: agentDescription ?? previous?.profile.description
            )
            let request = MeshIdentity(
                url: url, agentId: id ?? previous?.agentId ?? "", namespace: namespace ?? previous?.namespace ?? "default",
                credential: previous?.credential ?? "", profile: profile
            )
            var params = MeshSession.registerParams(request)
            if request.agentId.isEmpty { params.agentId = nil }
            if request.credential.isEmpty { params.credential = nil }
            let body = try JSONCoding.value(of: params)
            let result = try await MeshSession.withConnection(client, resolved) { try await $0.call("mesh.register", params: body) }

            let agent = result["agent"] ?? .null
            guard let agentId = agent["agentId"]?.stringValue,
                let credential = result["credential"]?.stringValue ?? previous?.credential
            else { throw MeshCLIError("mesh.register answered without an agent id or credential") }
            try file.save(
                MeshIdentity(
                    url: url, agentId: agentId, namespace: agent["namespace"]?.stringValue ?? request.namespace,
                    credential: credential, profile: profile
                )
            )
            let created = result["credential"] != nil
            if json {
                print(Output.json(["agent": agent, "created": .bool(created), "identityFile": .string(file.path)], pretty: false))
            } else {
                print("\(created ? "registered" : "updated") mesh agent \(agentId) in namespace \(MeshFormat.string(agent["namespace"]))")
                print("  name:         \(MeshFormat.string(agent["name"]))")
                print("  capabilities: \(MeshFormat.list(agent["capabilities"]))")
                print("  types:        \(MeshFormat.list(agent["agentTypes"]))")
                print("  identity:     \(file.path) (mode 0600)")
            }
        }
    }
}

/// `clawgate mesh discover`: who is in the namespace and what they can do, to pick a `--to`.
struct MeshDiscoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "discover", abstract: "List agents, filtered by capability, type or status.")

    @OptionGroup var client: ClientOptions
    @Option(help: "Required capabilities, comma-separated (all of them).") var caps: String?
    @Option(name: .customLong("type"), help: "Agent type.") var agentType: String?
    @Option(help: "online, stale or offline.") var status: String?
    @Option(help: "Namespace (default: the agent's own; others need operator.admin).") var namespace: String?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if let status, !["online", "stale", "offline"].contains(status) {
            throw ValidationError("--status must be online, stale or offline")
        }
    }

    func run() async throws {
        let params = MeshDiscoverParams(namespace: namespace, capabilities: MeshArgs.list(caps), agentType: agentType, status: status)
        let json = self.json
        try await MeshSession.run {
            let result = try await MeshSession.withAgent(client) { try await $0.call("mesh.discover", params) }
            if json { return print(Output.json(result, pretty: false)) }
            let agents = result["agents"]?.arrayValue ?? []
            print("\(agents.count) agent(s) in namespace \(MeshFormat.string(result["namespace"])):")
            if !agents.isEmpty { print(MeshFormat.agents(agents)) }
        }
    }
}
