import NIOPosix

/// Guards for blocking file I/O (`fsync`, atomic replaces).
///
/// HTTP connections run their work on their event loop (see `EventLoopTaskExecutor`), so a
/// blocking write reached from there would hold up every socket of that loop. Debug builds (the
/// tests) stop at such a call; callers move the work off the loop, e.g. with
/// `withTaskExecutorPreference(globalConcurrentExecutor)`.
public enum BlockingIO {
    public static func assertOffEventLoop(_ what: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
        assert(
            MultiThreadedEventLoopGroup.currentEventLoop == nil,
            "blocking I/O on an event loop thread: \(what())", file: file, line: line
        )
    }
}
