import ArgumentParser
import ClawgateClient
import ClawgateProtocol
import Foundation

/// `clawgate sessions`: the hosted agents' sessions (`sessions.list`), newest first.
struct SessionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sessions", abstract: "List the hosted agents' sessions.")

    @OptionGroup var client: ClientOptions
    @Option(help: "Only this agent's sessions.") var agent: String?
    @Option(help: "At most this many sessions (1 to 5000; default 200).") var limit: Int?
    @Flag(help: "Print the gateway's answer as JSON.") var json = false

    func validate() throws {
        if let limit, !(1...5000).contains(limit) { throw ValidationError("--limit must be from 1 to 5000") }
    }

    func run() async throws {
        let params = SessionsListParams(agentId: agent, limit: limit)
        let result: JSONValue
        do {
            result = try await client.withConnection { try await $0.call("sessions.list", params: JSONCoding.value(of: params)) }
        } catch {
            throw Output.fail("\(error)")
        }
        if json {
            print(Output.json(result, pretty: false))
            return
        }
        let sessions = result["sessions"]?.arrayValue ?? []
        if sessions.isEmpty {
            print("No sessions.")
            return
        }
        let now = Int(Date().timeIntervalSince1970 * 1000)
        print(
            MeshFormat.table(
                ["KEY", "SESSION ID", "UPDATED", "TOKENS", "MODEL"],
                sessions.map { session in
                    [
                        MeshFormat.string(session["key"]), MeshFormat.string(session["sessionId"]),
                        Self.age(session["updatedAt"]?.intValue, now: now), MeshFormat.string(session["totalTokens"], "0"),
                        Self.model(session),
                    ]
                }
            )
        )
        if let total = result["totalCount"]?.intValue, total > sessions.count {
            print("(\(sessions.count) of \(total); use --limit to see more)")
        }
    }

    /// `provider/model` of the session's last run, else its override, else "-".
    static func model(_ session: JSONValue) -> String {
        if let model = session["model"]?.stringValue {
            return session["modelProvider"]?.stringValue.map { "\($0)/\(model)" } ?? model
        }
        if let model = session["modelOverride"]?.stringValue {
            return session["providerOverride"]?.stringValue.map { "\($0)/\(model)" } ?? model
        }
        return "-"
    }

    /// "just now", "5m ago", "3h ago", "2d ago"; the ISO time beyond a week (or in the future).
    static func age(_ ms: Int?, now: Int) -> String {
        guard let ms else { return "-" }
        let seconds = (now - ms) / 1000
        switch seconds {
        case ..<(-60): break
        case ..<60: return "just now"
        case ..<3600: return "\(seconds / 60)m ago"
        case ..<86_400: return "\(seconds / 3600)h ago"
        case ..<(7 * 86_400): return "\(seconds / 86_400)d ago"
        default: break
        }
        return ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}
