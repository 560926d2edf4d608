import NIOCore

/// A task executor that runs jobs on one NIO event loop.
///
/// An HTTP connection's work runs with this as its preference, so a request is read, handled,
/// sent upstream and answered on the connection's own thread instead of hopping to the
/// cooperative pool and back for every step (on this kind of VM each hop to a sleeping thread
/// costs a wake-up and cold caches; measured in BENCHMARKS.md, "Proxy"). SwiftNIO 2.101 has no
/// such executor, hence this small one. Work that must not hold up the loop (blocking file I/O
/// of any size) does not belong in a handler here, nor on the cooperative pool, where blocking
/// starves every task just as well.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        eventLoop.execute { job.runSynchronously(on: executor) }
    }
}
