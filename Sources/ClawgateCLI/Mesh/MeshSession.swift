import ArgumentParser
import ClawgateClient
import ClawgateProtocol
import Foundation
import Synchronization

/// One CLI command's connection acting as the stored mesh agent.
///
/// The gateway ties mesh calls to the connection that called `mesh.register`, and a CLI command
/// is a fresh connection each time, so every command binds first: `mesh.register` with the stored
/// id and credential. Commands bind without subscribing, so nothing waiting for the agent is
/// leased to a connection about to close; only `delegate --wait` subscribes, and `inbox`
/// collects the pushes it waits for.
struct MeshAgentConnection: Sendable {
    let connection: GatewayConnection
    let identity: MeshIdentity
    let inbox: MeshInbox

    /// Calls a mesh method; the result is the raw JSON (the mesh's own records).
    func call<P: Encodable & Sendable>(_ method: String, _ params: P) async throws -> JSONValue {
        try await connection.call(method, params: JSONCoding.value(of: params))
    }
}

enum MeshSession {
    /// Connects (bounded by `--timeout` plus `extraTime`), binds to the stored agent and runs
    /// `body`. Fails before connecting when no agent is registered or it belongs to another
    /// gateway.
    static func withAgent<T: Sendable>(
        _ client: ClientOptions, extraTime: Duration = .zero, subscribe: Bool = false,
        _ body: @escaping @Sendable (MeshAgentConnection) async throws -> T
    ) async throws -> T {
        let file = MeshIdentityFile.resolve()
        let identity = try file.require()
        let resolved = try client.resolve()
        guard resolved.options.url == identity.url else {
            throw MeshCLIError(
                "the mesh agent in \(file.path) is registered with \(identity.url), not \(resolved.options.url): "
                    + "run `clawgate mesh register` to register with this gateway"
            )
        }
        return try await withConnection(client, resolved, extraTime: extraTime) { connection in
            let inbox = MeshInbox()
            let collector = Task { await inbox.collect(connection.events) }
            defer { collector.cancel() }
            let bound = try await bind(connection, identity: identity, file: file, subscribe: subscribe)
            return try await body(MeshAgentConnection(connection: connection, identity: bound, inbox: inbox))
        }
    }

    /// `ClientOptions.withConnection` with room for commands that wait (`delegate --wait`).
    static func withConnection<T: Sendable>(
        _ client: ClientOptions, _ resolved: ClientOptions.Resolved, extraTime: Duration = .zero,
        _ body: @escaping @Sendable (GatewayConnection) async throws -> T
    ) async throws -> T {
        let options = resolved.options
        let store = resolved.store
        let limit = Duration.milliseconds(max(client.timeout, 1)) + extraTime
        return try await GatewayClient.withTimeout(limit, "gateway at \(options.url) did not finish within \(limit)") {
            try await GatewayClient.withConnection(options) { connection in
                if let issued = connection.hello.auth?.deviceToken {
                    try? store.saveDeviceToken(issued, url: options.url, role: options.role)
                }
                return try await body(connection)
            }
        }
    }

    /// Re-registers as the stored agent. A gateway that lost the agent (fresh state) registers it
    /// anew and answers with a new credential, which replaces the stored one.
    static func bind(
        _ connection: GatewayConnection, identity: MeshIdentity, file: MeshIdentityFile, subscribe: Bool
    ) async throws -> MeshIdentity {
        var params = registerParams(identity)
        params.subscribe = subscribe
        let result = try await connection.call("mesh.register", params: JSONCoding.value(of: params))
        guard let credential = result["credential"]?.stringValue else { return identity }
        var renewed = identity
        renewed.credential = credential
        try file.save(renewed)
        return renewed
    }

    static func registerParams(_ identity: MeshIdentity) -> MeshRegisterParams {
        var params = MeshRegisterParams(
            agentId: identity.agentId, name: identity.profile.name, namespace: identity.namespace,
            capabilities: identity.profile.capabilities, agentTypes: identity.profile.agentTypes,
            maxConcurrentTasks: identity.profile.maxConcurrentTasks, credential: identity.credential
        )
        params.description = identity.profile.description
        return params
    }

    /// Runs a command body and turns any failure into `clawgate: <message>` and exit code 1
    /// (RPC errors read `<method> failed: CODE: message`).
    static func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw Output.fail("\(error)")
        }
    }
}

/// `mesh.delivery` events pushed to this connection, in arrival order.
final class MeshInbox: Sendable {
    private let state = Mutex<[JSONValue]>([])

    func collect(_ events: AsyncStream<EventFrame>) async {
        for await event in events where event.event == MeshGatewayEvent.delivery {
            if let payload = event.payload { state.withLock { $0.append(payload) } }
        }
    }

    /// Removes and returns the first delivery matching `predicate`.
    func take(where predicate: (JSONValue) -> Bool) -> JSONValue? {
        state.withLock { list in
            guard let index = list.firstIndex(where: predicate) else { return nil }
            return list.remove(at: index)
        }
    }

}

/// Parsing of option values shared by the mesh commands; all of it runs before connecting.
enum MeshArgs {
    /// `a,b, c` → `["a", "b", "c"]`; nil stays nil (the option was not given).
    static func list(_ raw: String?) -> [String]? {
        raw.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
    }

    /// Repeated options that may also hold comma-separated values.
    static func list(_ raw: [String]) -> [String]? {
        raw.isEmpty ? nil : raw.flatMap { list($0) ?? [] }
    }

    /// A JSON option value (`--context`, `--result`).
    static func json(_ raw: String?, option: String) throws -> JSONValue? {
        guard let raw else { return nil }
        do {
            return try JSONCoding.decode(JSONValue.self, from: Data(raw.utf8))
        } catch {
            throw MeshCLIError("\(option) is not valid JSON: \(JSONCoding.describe(error))")
        }
    }
}
