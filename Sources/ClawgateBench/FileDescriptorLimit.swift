import Foundation

/// The open-file limit of this process (and so of the gateway it starts, which inherits it).
enum FileDescriptorLimit {
    /// Raises the soft `RLIMIT_NOFILE` to at least `wanted` (at most the hard limit); returns
    /// the soft limit in effect afterwards.
    @discardableResult
    static func raise(toAtLeast wanted: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        let target = min(rlim_t(wanted), limit.rlim_max)
        if limit.rlim_cur < target {
            limit.rlim_cur = target
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return Int(clamping: limit.rlim_cur)
    }
}
