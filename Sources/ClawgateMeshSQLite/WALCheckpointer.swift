import GRDB
import Synchronization

/// Runs SQLite's WAL checkpoints on a connection of its own, off the store's thread.
///
/// Why: SQLite's automatic checkpoint runs inside the commit that crosses 1,000 log pages, on
/// the committing connection — here the store's thread, where every mesh operation runs. A
/// checkpoint copies the log into the database file and `fdatasync`s both; `strace` of a soak
/// showed those syncs taking up to 0.3 s, and every mesh operation waited for them.
///
/// So the writer never checkpoints (`wal_autocheckpoint = 0`) and tells this type about each
/// commit. Every `everyCommits` commits it runs a `PASSIVE` checkpoint on its own connection
/// (a GRDB queue, so on GRDB's thread): it copies what the log holds and syncs, and never
/// blocks the writer. A passive checkpoint cannot restart the log while the writer keeps
/// appending, though — SQLite restarts it only when a write begins after a checkpoint copied
/// *everything* — so once the log is longer than `restartFrames`, it runs a `RESTART` checkpoint
/// instead: that one waits for the current batch to commit and holds the next one back while it
/// copies the few frames the passive ones left and syncs, which is the only time the writer
/// waits, `restartFrames / 1000` times less often than with automatic checkpoints (the log file
/// grows to about `restartFrames` pages: 32 MB by default).
final class WALCheckpointer: Sendable {
    private struct State {
        var commitsSinceCheckpoint = 0
        var running = false
        var completed = 0
        var lastLogFrames = 0
    }

    private let connection: DatabaseQueue
    private let everyCommits: Int
    private let restartFrames: Int
    private let state = Mutex(State())

    init(path: String, everyCommits: Int = 64, restartFrames: Int = 8_000) throws {
        var config = Configuration()
        config.label = "clawgate.mesh.checkpoint"
        // A RESTART checkpoint waits (in SQLite's busy handler) for the writer's open batch.
        config.busyMode = .timeout(5)
        connection = try DatabaseQueue(path: path, configuration: config)
        self.everyCommits = everyCommits
        self.restartFrames = restartFrames
    }

    /// Called after each commit of the writer; starts a checkpoint every `everyCommits` of them
    /// unless one is still running (then the next commit tries again).
    func committed() {
        let start = state.withLock { state -> Bool in
            state.commitsSinceCheckpoint += 1
            guard state.commitsSinceCheckpoint >= everyCommits, !state.running else { return false }
            state.commitsSinceCheckpoint = 0
            state.running = true
            return true
        }
        guard start else { return }
        let restartFrames = self.restartFrames
        connection.asyncWriteWithoutTransaction { db in
            var logFrames = 0
            do {
                logFrames = try db.checkpoint(.passive).walFrameCount
                if logFrames > restartFrames {
                    logFrames = try db.checkpoint(.restart).walFrameCount
                }
            } catch {
                // Busy or failed: the log keeps its frames and the next round tries again.
            }
            self.state.withLock { state in
                state.running = false
                state.completed += 1
                state.lastLogFrames = logFrames
            }
        }
    }

    /// Checkpoints finished so far, and the log's length (frames) after the last one (for tests).
    var progress: (completed: Int, lastLogFrames: Int) {
        state.withLock { ($0.completed, $0.lastLogFrames) }
    }
}
