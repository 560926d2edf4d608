import ArgumentParser
import ClawgateGateway
import Foundation

/// `clawgate audit`: the gateway's audit log, read from the local state dir.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Read the audit log (<stateDir>/logs/audit.jsonl).", subcommands: [AuditTailCommand.self]
    )
}

/// `clawgate audit tail [--event X] [--lines N] [--follow] [--json]`.
struct AuditTailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print the newest audit events (rotated files included), optionally following new ones."
    )

    @Option(help: "Only this event (e.g. auth.failure), or a family without a dot (e.g. auth).")
    var event: String?
    @Option(name: .shortAndLong, help: "How many of the newest matching events to print first.")
    var lines = 20
    @Flag(name: .shortAndLong, help: "Keep printing new events as they are written (across rotation).")
    var follow = false
    @Flag(help: "Print the raw JSON lines.") var json = false

    func validate() throws {
        guard lines >= 0 else { throw ValidationError("--lines must be 0 or more") }
    }

    func run() async throws {
        let path = GatewayPaths.resolve().auditFile
        if AuditReader.files(of: path).isEmpty && !follow {
            throw Output.fail("no audit log at \(path) (the gateway writes it once it runs)")
        }
        let records: [AuditReader.Record]
        do {
            records = try AuditReader.tail(path: path, filter: event, limit: lines)
        } catch {
            throw Output.fail("cannot read \(path): \(error)")
        }
        for record in records { emit(record) }
        guard follow else { return }
        let follower = AuditFollower(path: path, fromEnd: true)
        while !Task.isCancelled {
            for line in follower.poll() {
                guard let record = AuditReader.parse(line), AuditReader.matches(record.event, filter: event) else { continue }
                emit(record)
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    private func emit(_ record: AuditReader.Record) {
        print(json ? record.line : AuditReader.format(record))
        fflush(nil)  // all streams: a pipe would otherwise hold followed lines back
    }
}
