import ArgumentParser
import ClawgateClient
import ClawgateGateway
import ClawgateProtocol
import Foundation

/// `clawgate agent --message "…"`: one turn with a hosted agent over `chat.send`, the reply
/// streamed from the run's `chat` events as it comes.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Send a message to a hosted agent and stream its reply.",
        discussion: """
            The message goes to --session, else to the main session of --agent (agent:<id>:main), \
            else to the default agent's main session. Exits 0 when the reply completed, 1 when the \
            run was aborted or failed.
            """
    )

    @OptionGroup var connection: AgentConnectionOptions
    @Option(name: [.short, .long], help: "The message to send.") var message: String
    @Option(help: "Agent id: talk to its main session (agent:<id>:main).") var agent: String?
    @Option(help: "Session key (takes precedence over --agent).") var session: String?
    @Option(help: "Seconds the run may take; the gateway aborts it after that (default: no limit; the CLI waits up to 600 s).")
    var timeout: Int?
    @Flag(help: "Print one JSON object ({runId, status, text, usage}) at the end instead of streaming.") var json = false

    /// How long the CLI waits for the reply when no `--timeout` is given.
    static let defaultWaitSeconds = 600
    /// Room for the gateway's own abort at `--timeout` to arrive as an event.
    static let waitSlack: Duration = .seconds(15)

    func validate() throws {
        if message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw ValidationError("--message must not be empty") }
        if let timeout, !(1...86_400).contains(timeout) { throw ValidationError("--timeout must be from 1 to 86400 seconds") }
        if let agent, agent.isEmpty { throw ValidationError("--agent must not be empty") }
        if let session, session.isEmpty { throw ValidationError("--session must not be empty") }
    }

    /// `--session`, else the agent's main session, else `main`.
    static func sessionKey(session: String?, agent: String?) -> String {
        if let session { return session }
        if let agent { return "agent:\(agent):main" }
        return "main"
    }

    func run() async throws {
        let sessionKey = Self.sessionKey(session: session, agent: agent)
        let params = ChatSendParams(
            sessionKey: sessionKey, message: message, idempotencyKey: RandomID.uuid(), timeoutMs: timeout.map { $0 * 1000 }
        )
        let wait = Duration.seconds(timeout ?? Self.defaultWaitSeconds) + Self.waitSlack
        let streaming = !json
        let reply: ChatReply
        do {
            let client = try connection.clientOptions()
            let resolved = try client.resolve()
            let options = resolved.options
            let store = resolved.store
            reply = try await GatewayClient.withConnection(options) { connection in
                if let issued = connection.hello.auth?.deviceToken {
                    try? store.saveDeviceToken(issued, url: options.url, role: options.role)
                }
                // The event stream exists since the handshake and buffers, so nothing of the run is
                // missed between this call returning and the loop below starting to read.
                let ack = try await connection.call("chat.send", params: JSONCoding.value(of: params))
                let runId = ack["runId"]?.stringValue ?? params.idempotencyKey
                do {
                    return try await GatewayClient.withTimeout(wait, "no end of run \(runId) within \(wait)") {
                        try await ChatReplyStream.follow(connection.events, runId: runId) { piece in
                            if streaming { Terminal.out(piece) }
                        }
                    }
                } catch GatewayClientError.timeout(let what) {
                    // Stop the run rather than leave it working for nobody.
                    _ = try? await connection.call("chat.abort", params: ["sessionKey": .string(sessionKey), "runId": .string(runId)])
                    throw GatewayClientError.timeout(what)
                }
            }
        } catch {
            throw Output.fail("\(error)")
        }
        if json {
            print(Output.json(reply.json, pretty: false))
            if reply.status != "ok" { throw ExitCode(1) }
            return
        }
        switch reply.status {
        case "ok":
            Terminal.out("\n")
        case "aborted":
            if !reply.text.isEmpty { Terminal.out("\n") }
            Terminal.err("(aborted)\n")
            throw ExitCode(1)
        default:
            if !reply.text.isEmpty { Terminal.out("\n") }
            Terminal.err("\(reply.errorKind ?? "unknown"): \(reply.errorMessage ?? "the run failed")\n")
            throw ExitCode(1)
        }
    }
}

/// Unbuffered writes, so streamed text shows as it arrives.
enum Terminal {
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func err(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
