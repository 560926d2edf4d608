import Dispatch
import GRDB
import GRDBSQLite
import Synchronization

/// Copies the write-ahead log into the database file on a connection of its own, so that most
/// of the `fdatasync`s that checkpoints need happen off the store's thread.
///
/// Why: SQLite's automatic checkpoint runs inside the commit that takes the log past 1,000
/// pages, on the committing connection — the store's thread, where every mesh operation runs.
/// It syncs the log and the database file, and the next write, which starts the log over, syncs
/// the log's new header: three syncs per 1,000 pages on the thread every mesh operation waits
/// for, and `strace` of a soak showed single syncs taking up to 0.3 s.
///
/// The writer decides, from SQLite's WAL hook (called after each of its commits with the log's
/// length; installing it replaces the automatic checkpoint, which is that same hook):
/// - every `backgroundStep` (1,000) frames added since the last background checkpoint, and
///   otherwise `trailingDelay` (1 s) after the first commit it has not copied (a throttle, so
///   under light steady load about once a second), a `PASSIVE` checkpoint runs on this type's
///   own connection (GRDB's queue, off the store's thread). It never blocks the writer. When it
///   copied the whole log during a pause, SQLite starts the log over at the next write (whose
///   header sync is the writer's only one then).
/// - a passive checkpoint cannot catch up while the writer keeps appending without a pause, and
///   the log only starts over after one that copied *everything*. So past `writerFrames`
///   (4,000) the writer checkpoints itself, as SQLite's automatic checkpoint does at 1,000 —
///   but the background has already copied and synced all but the last few hundred frames. The
///   writer's syncs under sustained load: 3 per 4,000 frames instead of 3 per 1,000. The log
///   grows to about 16 MB (still one wal-index hash table for reads to search); the file keeps
///   its largest size while the database is open, as before (`journal_size_limit` is unset).
///
/// A checkpoint per short pause would be wrong: every restart of the log costs the writer a
/// header sync, and frequent background syncs contend with it for the disk (a first version,
/// after 100 ms of quiet, made six checkpoints a second in a soak and a writer sync of 122 ms).
///
/// A connection only learns that the file is in WAL mode when it first reads it; until then a
/// checkpoint on it does nothing and reports -1 frames (`checkpoint(_:)` reads first). A previous
/// attempt missed that, so its checkpoints copied nothing and the log only grew.
final class WALCheckpointer: Sendable {
    private struct State {
        /// A background checkpoint is queued or running.
        var running = false
        /// A trailing run is due after `trailingDelay`.
        var trailingArmed = false
        /// The log frame the last background checkpoint copied up to.
        var backfilled = 0
        /// Commits seen, and how many there had been when the last background run began.
        var commits = 0
        var commitsAtRunStart = 0
        var backgroundRuns = 0
        /// Background runs that found the log and copied frames from it.
        var backgroundCopies = 0
        var writerRuns = 0

        mutating func startRun() -> Action {
            running = true
            commitsAtRunStart = commits
            return .runNow
        }

        mutating func armTrailing() -> Action {
            guard !trailingArmed else { return .none }
            trailingArmed = true
            return .runLater
        }
    }

    private let connection: DatabaseQueue
    private let backgroundStep: Int
    private let writerFrames: Int
    private let trailingDelay: Duration
    private let state = Mutex(State())

    init(path: String, backgroundStep: Int = 1_000, writerFrames: Int = 4_000, trailingDelay: Duration = .seconds(1)) throws {
        var config = Configuration()
        config.label = "clawgate.mesh.checkpoint"
        // Like the store's own connections: opening reads the schema, which waits while another
        // process (a gateway still closing during a restart, a CLI) briefly holds the file.
        // Checkpoints themselves are passive and never wait.
        config.busyMode = .timeout(5)
        connection = try DatabaseQueue(path: path, configuration: config)
        self.backgroundStep = backgroundStep
        self.writerFrames = writerFrames
        self.trailingDelay = trailingDelay
    }

    /// Installs the WAL hook on a connection (harmless on readers: the hook only runs on
    /// commits). The hook holds this object unretained, so whoever installs it must keep it
    /// alive as long as the connection: the store captures it in the pool's `prepareDatabase`.
    func install(on db: Database) {
        sqlite3_wal_hook(db.sqliteConnection, walHook, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Called on the writer's thread after each commit, with the log's length in frames.
    fileprivate func committed(connection writer: OpaquePointer?, logFrames: Int) {
        if logFrames >= writerFrames {
            // As SQLite's own hook would: passive, so it never waits. If the background one holds
            // the checkpoint lock, SQLite answers BUSY and copies nothing: the next commit tries
            // again, and should writes stop here, a trailing run copies the rest.
            let copied = sqlite3_wal_checkpoint_v2(writer, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil) == SQLITE_OK
            let action = state.withLock { state -> Action in
                state.commits += 1
                if copied {
                    state.writerRuns += 1
                    return .none
                }
                return state.running ? .none : state.armTrailing()
            }
            perform(action)
            return
        }
        let action = state.withLock { state -> Action in
            state.commits += 1
            // The log started over since the last background run.
            if logFrames < state.backfilled { state.backfilled = 0 }
            guard !state.running, logFrames > state.backfilled else { return .none }
            if logFrames - state.backfilled >= backgroundStep { return state.startRun() }
            return state.armTrailing()
        }
        perform(action)
    }

    private enum Action { case none, runNow, runLater }

    private func perform(_ action: Action) {
        switch action {
        case .none:
            break
        case .runNow:
            connection.asyncWriteWithoutTransaction { db in
                // Busy (the writer's own checkpoint holds the lock) or failed: nothing copied; the
                // next commit or trailing run tries again.
                let copied = (try? Self.checkpoint(db)) ?? 0
                // Commits that landed meanwhile may not be copied: look again after a pause.
                let next = self.state.withLock { state -> Action in
                    state.running = false
                    state.backfilled = max(copied, 0)
                    state.backgroundRuns += 1
                    if copied > 0 { state.backgroundCopies += 1 }
                    return state.commits > state.commitsAtRunStart ? state.armTrailing() : .none
                }
                self.perform(next)
            }
        case .runLater:
            // Once the writer has had a pause's worth of time, so that after a burst the whole log
            // gets copied and SQLite can start it over.
            let nanoseconds = trailingDelay.components.seconds * 1_000_000_000 + trailingDelay.components.attoseconds / 1_000_000_000
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds))) {
                let next = self.state.withLock { state -> Action in
                    state.trailingArmed = false
                    // A run in progress looks again when it ends.
                    guard !state.running, state.commits > state.commitsAtRunStart else { return .none }
                    return state.startRun()
                }
                self.perform(next)
            }
        }
    }

    /// A passive checkpoint on `db`: the log frames copied so far. It reads first because a
    /// connection only notices that the file is in WAL mode when it reads it; until then a
    /// checkpoint does nothing and answers -1.
    private static func checkpoint(_ db: Database) throws -> Int {
        _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE 0")
        return try db.checkpoint(.passive).checkpointedFrameCount
    }

    /// No background checkpoint is queued, running or due (for tests).
    var isIdle: Bool { state.withLock { !$0.running && !$0.trailingArmed } }

    /// Checkpoints run so far by the background connection (and how many of them copied
    /// frames) and by the writer (for tests).
    var runs: (background: Int, backgroundCopies: Int, writer: Int) {
        state.withLock { ($0.backgroundRuns, $0.backgroundCopies, $0.writerRuns) }
    }
}

/// `sqlite3_wal_hook`'s callback: a C function, so the checkpointer comes through `context`.
private func walHook(
    _ context: UnsafeMutableRawPointer?, _ connection: OpaquePointer?, _ database: UnsafePointer<CChar>?, _ frames: Int32
) -> Int32 {
    guard let context else { return SQLITE_OK }
    Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue()
        .committed(connection: connection, logFrames: Int(frames))
    return SQLITE_OK
}
