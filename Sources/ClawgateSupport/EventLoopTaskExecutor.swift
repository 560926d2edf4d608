import NIOCore

/// A task executor that runs jobs on one NIO event loop's thread.
///
/// Two uses: an HTTP connection's work runs with it as its preference, so a request is read,
/// handled, sent upstream and answered on the connection's own thread instead of hopping to the
/// cooperative pool and back for every step (on a VM each hop to a sleeping thread costs a
/// wake-up and cold caches; BENCHMARKS.md, "Proxy"); and the SQLite mesh store runs the socket
/// work of mesh agents on its own thread (see `MeshStore.taskExecutor`).
///
/// Written here because SwiftNIO (2.101) makes its event loops serial executors, for actors, but
/// not task executors, which `withTaskExecutorPreference` and `Task(executorPreference:)` need.
/// Whatever runs here holds up every channel of the loop: blocking file I/O belongs elsewhere
/// (see `BlockingIO`).
public final class EventLoopTaskExecutor: TaskExecutor {
    public let loop: any EventLoop

    public init(loop: any EventLoop) {
        self.loop = loop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        loop.execute { job.runSynchronously(on: executor) }
    }
}
