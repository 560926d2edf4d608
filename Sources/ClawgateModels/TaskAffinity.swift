/// Where the tasks a request starts should run.
///
/// The gateway runs each HTTP connection's work on the connection's event loop (a task executor
/// preference) so that a proxied chat does not bounce between threads: on a VM every hand-off
/// to a sleeping thread costs a wake-up and cold caches. Task executor preferences do not pass
/// to unstructured tasks, so the places that start one for a request (the agent run, the
/// router, the attempt, the provider's body pump) read the preference from here; a task local
/// does pass. `nil` (the default, e.g. for WebSocket and CLI callers) means the global executor.
/// Session runs clear it for themselves and their tasks: they write transcripts (`fsync`), and
/// the session store is a default actor, which runs on whatever executor its caller prefers.
public enum TaskAffinity {
    @TaskLocal public static var executor: (any TaskExecutor)?
}
