import Foundation

/// Memory and file descriptors of this process, read at scrape time from `/proc/self`
/// (Linux). Elsewhere the values are nil and the series are left out.
struct ProcessStats: Sendable, Equatable {
    var residentBytes: Int?
    var virtualBytes: Int?
    var openFDs: Int?
    var maxFDs: Int?

    static func read() -> ProcessStats {
        var stats = ProcessStats()
        #if os(Linux)
        // statm: size resident shared text lib data dt, in pages.
        if let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) {
            let fields = statm.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            let page = sysconf(Int32(_SC_PAGESIZE))
            if fields.count >= 2, page > 0 {
                stats.virtualBytes = fields[0] * page
                stats.residentBytes = fields[1] * page
            }
        }
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            stats.openFDs = entries.count
        }
        var limit = rlimit()
        if getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max {
            stats.maxFDs = Int(clamping: limit.rlim_cur)
        }
        #endif
        return stats
    }
}
