import ClawgateProtocol
import Foundation

/// Reads the tail of the gateway log for `logs.tail`, by byte cursor, returning whole lines only.
enum LogTailReader {
    static let defaultLimit = 500
    static let defaultMaxBytes = 250_000

    static func read(path: String, params: LogsTailParams) throws -> LogsTailResult {
        let limit = params.limit ?? defaultLimit
        let maxBytes = params.maxBytes ?? defaultMaxBytes
        guard let handle = FileHandle(forReadingAtPath: path) else {
            return LogsTailResult(file: path, cursor: 0, size: 0, lines: [], truncated: nil, reset: nil)
        }
        defer { try? handle.close() }
        let size = Int(try handle.seekToEnd())
        var reset: Bool?
        var start: Int
        if let cursor = params.cursor {
            if cursor > size {
                // The file was rotated or truncated since the client's last read.
                reset = true
                start = max(0, size - maxBytes)
            } else {
                start = cursor
            }
        } else {
            start = max(0, size - maxBytes)
        }
        var truncated: Bool?
        if size - start > maxBytes {
            start = size - maxBytes
            truncated = true
        }
        try handle.seek(toOffset: UInt64(start))
        let data = try handle.read(upToCount: size - start) ?? Data()
        var bytes = [UInt8](data)
        // Drop a partial first line when we started in the middle of one.
        if start > 0 && (params.cursor == nil || truncated == true || reset == true) {
            if let newline = bytes.firstIndex(of: 0x0A) {
                bytes.removeSubrange(0...newline)
                start += newline + 1
            } else {
                bytes.removeAll()
                start = size
            }
        }
        // Keep only complete lines; the cursor stops after the last newline.
        var end = bytes.count
        if let lastNewline = bytes.lastIndex(of: 0x0A) { end = lastNewline + 1 } else { end = 0 }
        var lines = bytes[0..<end].split(separator: 0x0A, omittingEmptySubsequences: false).dropLast().map {
            String(decoding: $0, as: UTF8.self)
        }
        if lines.count > limit {
            lines = Array(lines.suffix(limit))
            truncated = true
        }
        return LogsTailResult(file: path, cursor: start + end, size: size, lines: lines, truncated: truncated, reset: reset)
    }
}
