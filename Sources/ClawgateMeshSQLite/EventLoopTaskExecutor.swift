import NIOCore

/// Runs tasks that prefer it on an event loop's thread: the store's thread, for the socket work
/// of mesh agents (see `MeshStore.taskExecutor`).
///
/// Written here because SwiftNIO (2.101) makes its event loops serial executors, for actors, but
/// not task executors, which `Task(executorPreference:)` needs.
final class EventLoopTaskExecutor: TaskExecutor {
    private let loop: any EventLoop

    init(loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
