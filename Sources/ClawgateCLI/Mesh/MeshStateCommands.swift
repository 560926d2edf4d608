import ArgumentParser
import ClawgateProtocol

/// `clawgate mesh state …`: the namespace's shared JSON state documents. A write meets the
/// stored document under a policy: last-write-wins replaces it, merge adds to it (objects key
/// by key, arrays gain missing elements), reject writes only at the expected `--if-version`.
struct MeshStateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state", abstract: "Shared state documents of the namespace: get, set.",
        subcommands: [MeshStateGetCommand.self, MeshStateSetCommand.self]
    )
}

struct MeshStateGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show a state document.")

    @OptionGroup var client: ClientOptions
    @Argument(help: "Document key.") var key: String
    @Flag(help: "Print JSON (the document: value, version, updatedBy, …).") var json = false

    func run() async throws {
        let params = MeshKeyParams(key: key)
        let json = self.json
        try await MeshSession.run {
            let document = try await MeshSession.withAgent(client) { try await $0.call("mesh.state.get", params) }
            print(json ? Output.json(document, pretty: false) : MeshFormat.state(document))
        }
    }
}

struct MeshStateSetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Write a state document.",
        discussion: """
            --policy last-write-wins (default) replaces the document, merge adds the value to it, \
            reject writes only if the document is at --if-version (0: only if it does not exist yet). \
            --if-version alone implies --policy reject.
            """
    )

    static let policies = ["last-write-wins", "merge", "reject"]

    @OptionGroup var client: ClientOptions
    @Argument(help: "Document key.") var key: String
    @Option(help: "The value, as JSON.") var value: String
    @Option(help: "last-write-wins (default), merge or reject.") var policy: String?
    @Option(name: .customLong("if-version"), help: "The version the document must be at (with --policy reject; 0: new).")
    var ifVersion: Int?
    @Flag(help: "Print JSON (the stored document).") var json = false

    /// The policy sent: `--policy`, else reject when `--if-version` is given.
    var effectivePolicy: String? { policy ?? (ifVersion == nil ? nil : "reject") }

    func validate() throws {
        if let policy, !Self.policies.contains(policy) {
            throw ValidationError("--policy must be last-write-wins, merge or reject")
        }
        if let ifVersion, ifVersion < 0 { throw ValidationError("--if-version must be >= 0") }
        switch (effectivePolicy, ifVersion) {
        case ("reject"?, nil): throw ValidationError("--policy reject needs --if-version N (0 for a new document)")
        case (let other?, _?) where other != "reject":
            throw ValidationError("--if-version works only with --policy reject (\(other) does not check versions)")
        default: break
        }
    }

    func run() async throws {
        let key = self.key
        let policy = effectivePolicy
        let ifVersion = self.ifVersion
        let json = self.json
        try await MeshSession.run {
            let value = try MeshArgs.json(self.value, option: "--value") ?? .null
            let params = MeshStateSetParams(key: key, value: value, policy: policy, ifVersion: ifVersion)
            let document = try await MeshSession.withAgent(client) {
                try await $0.callReportingConflict(
                    "mesh.state.set", params, hint: "read the current version with `clawgate mesh state get \(key) --json` and retry"
                )
            }
            if json { return print(Output.json(document, pretty: false)) }
            print("set " + MeshFormat.state(document))
        }
    }
}
