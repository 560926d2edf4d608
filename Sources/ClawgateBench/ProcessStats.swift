import Foundation

/// What the kernel says about a process: resident memory from `/proc/<pid>/status`.
enum ProcessStats {
    /// `VmRSS` of `pid` in bytes, or nil when the process is gone or /proc is unavailable
    /// (not Linux).
    static func residentBytes(pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        return parseVmRSS(status)
    }

    /// `VmRSS:     12345 kB` → 12345 * 1024.
    static func parseVmRSS(_ status: String) -> Int? {
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.dropFirst("VmRSS:".count).split(whereSeparator: \.isWhitespace)
            guard let value = fields.first.flatMap({ Int($0) }) else { return nil }
            let unit = fields.count > 1 ? fields[1].lowercased() : "kb"
            switch unit {
            case "kb": return value * 1024
            case "mb": return value * 1024 * 1024
            default: return value
            }
        }
        return nil
    }

    static func megabytes(_ bytes: Int) -> Double { Double(bytes) / (1024 * 1024) }
}
