import GRDB
import NIOCore
import NIOPosix
import Synchronization

/// Group commit on the store's own thread.
///
/// A durable mesh operation used to pay for a transaction of its own plus four thread hand-offs
/// per store call (mesh actor → GRDB queue → back, for every read and the write). Instead the
/// mesh actor runs on this thread (the store's `executor`), reads and writes synchronously on
/// the writer connection, and stages each change in a savepoint of one open transaction. The
/// transaction commits when the thread has run every job that was queued before the batch
/// began — so under load one commit covers every operation that arrived meanwhile, and at low
/// load a change commits right after the operation that made it. Nobody is told a change
/// happened before its batch committed: each operation awaits its batch's `durable` future.
///
/// Blocking SQLite calls are fine here: the thread is the mesh's own (besides the mesh actor,
/// only mesh agents' sockets run here, whose requests wait for the mesh anyway; see
/// `MeshStore.taskExecutor`), and a commit in WAL mode with `synchronous = NORMAL` is a few
/// writes to the log, not an fsync.
final class GroupCommit: Sendable {
    /// The store's thread; the mesh actor's executor.
    let loop: any EventLoop
    private let group: MultiThreadedEventLoopGroup
    private let writer: any DatabaseWriter
    private let batch = Mutex(Batch())
    /// Called on the loop after a write or a batch failed (its changes are gone).
    private let onFailure: @Sendable () -> Void

    private struct Batch {
        var open = false
        var waiters: [EventLoopPromise<Void>] = []
    }

    init(writer: any DatabaseWriter, onFailure: @escaping @Sendable () -> Void = {}) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        self.loop = group.any()
        self.writer = writer
        self.onFailure = onFailure
    }

    deinit {
        // Not `syncShutdownGracefully`: the last reference may be dropped on the loop itself.
        group.shutdownGracefully { _ in }
    }

    /// Applies `body` inside the open batch (beginning one if needed) in its own savepoint: when
    /// `body` throws, only its own writes are undone and the error is returned at once. On
    /// success, returns the result and the future that completes once the batch is committed.
    /// Must run on `loop`.
    func stage<T>(_ body: (Database) throws -> T) throws -> (T, EventLoopFuture<Void>) {
        loop.preconditionInEventLoop()
        let begins = batch.withLock { !$0.open }
        let value: T = try writer.writeWithoutTransaction { db in
            if begins {
                try db.beginTransaction(.immediate)
                batch.withLock { $0.open = true }
                loop.execute { self.flush() }
            }
            var result: T?
            do {
                try db.inSavepoint {
                    result = try body(db)
                    return .commit
                }
            } catch {
                // Whatever `body` remembered of its writes is void with them.
                onFailure()
                throw error
            }
            guard let result else { throw DatabaseError(resultCode: .SQLITE_INTERNAL, message: "savepoint returned nothing") }
            return result
        }
        let promise = loop.makePromise(of: Void.self)
        batch.withLock { $0.waiters.append(promise) }
        return (value, promise.futureResult)
    }

    /// Runs a read on the writer connection, which sees the open batch (the mesh actor's own
    /// view). Must run on `loop`.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        loop.preconditionInEventLoop()
        return try writer.writeWithoutTransaction(body)
    }

    /// Commits the open batch and tells every waiter.
    private func flush() {
        let waiters = batch.withLock { batch in
            defer { batch = Batch() }
            return batch.waiters
        }
        do {
            try writer.writeWithoutTransaction { db in
                if db.isInsideTransaction { try db.commit() }
            }
            for waiter in waiters { waiter.succeed() }
        } catch {
            try? writer.writeWithoutTransaction { db in
                if db.isInsideTransaction { try db.rollback() }
            }
            onFailure()
            for waiter in waiters { waiter.fail(error) }
        }
    }
}
