import Foundation
import GRDB

/// `PRAGMA integrity_check` on a database file, for `clawgate doctor`.
public enum SQLiteIntegrity {
    public enum Outcome: Sendable, Equatable {
        /// SQLite answered `ok`.
        case ok
        /// The file is not there (a gateway creates it on first start).
        case missing
        /// SQLite found problems (its messages, at most a few), or could not read the file as a
        /// database at all (not SQLite, truncated header, unreadable).
        case corrupt([String])
    }

    /// Opens `path` read-only (never creating or migrating it) and runs the check. Never
    /// throws: a file that is not a database is a finding, not a failure of the check.
    public static func check(path: String, maxMessages: Int = 10) -> Outcome {
        guard FileManager.default.fileExists(atPath: path) else { return .missing }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.label = "clawgate.doctor"
        // A running gateway may hold the write lock for a moment.
        configuration.busyMode = .timeout(2)
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            let messages = try queue.read { db in
                try String.fetchAll(db, sql: "PRAGMA integrity_check(\(max(1, maxMessages)))")
            }
            return messages == ["ok"] ? .ok : .corrupt(messages.isEmpty ? ["integrity_check returned nothing"] : messages)
        } catch let error as DatabaseError {
            return .corrupt(["\(error.resultCode): \(error.message ?? "\(error)")"])
        } catch {
            return .corrupt(["\(error)"])
        }
    }
}
