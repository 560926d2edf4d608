import ClawgateProtocol
import DequeModule
import Foundation

/// Reads the audit log for `clawgate audit tail`: the live file and its rotated generations,
/// oldest first, filtered by event name.
public enum AuditReader {
    /// One audit line, parsed.
    public struct Record: Sendable, Equatable {
        public var line: String
        public var event: String
        public var ts: String?
        public var fields: [String: JSONValue]
    }

    /// The live file and the rotated generations found on disk (`audit.jsonl.N`), oldest first.
    public static func files(of path: String) -> [String] {
        let directory = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let generations = names.compactMap { name -> Int? in
            guard name.hasPrefix(base + "."), let number = Int(name.dropFirst(base.count + 1)), number > 0 else { return nil }
            return number
        }
        let rotated = generations.sorted(by: >).map { (directory as NSString).appendingPathComponent("\(base).\($0)") }
        return FileManager.default.fileExists(atPath: path) ? rotated + [path] : rotated
    }

    /// `filter` matches its own name and, without a dot, a family: `auth` matches
    /// `auth.success` and `auth.failure`.
    public static func matches(_ event: String, filter: String?) -> Bool {
        guard let filter, !filter.isEmpty else { return true }
        return event == filter || (!filter.contains(".") && event.hasPrefix(filter + "."))
    }

    /// nil for a line that is not an audit record (a torn write, garbage).
    public static func parse(_ line: String) -> Record? {
        guard let data = line.data(using: .utf8), let value = try? JSONCoding.decode(JSONValue.self, from: data),
            case .object(var fields) = value, case .string(let event)? = fields["event"]
        else { return nil }
        let ts = fields["ts"]?.stringValue
        fields["event"] = nil
        fields["ts"] = nil
        fields["tsMs"] = nil
        return Record(line: line, event: event, ts: ts, fields: fields)
    }

    /// The last `limit` records matching `filter`, across every generation, oldest first.
    public static func tail(path: String, filter: String?, limit: Int) throws -> [Record] {
        guard limit > 0 else { return [] }
        var kept = Deque<Record>()
        for file in files(of: path) {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            for line in data.split(separator: 0x0A) {
                guard let record = parse(String(decoding: line, as: UTF8.self)), matches(record.event, filter: filter) else { continue }
                kept.append(record)
                if kept.count > limit { kept.removeFirst() }
            }
        }
        return Array(kept)
    }

    /// One line for people: `<ts> <event> key=value …` (keys sorted).
    public static func format(_ record: Record) -> String {
        var parts = [record.ts ?? "-", record.event]
        for key in record.fields.keys.sorted() {
            guard let value = record.fields[key] else { continue }
            parts.append("\(key)=\(render(value))")
        }
        return parts.joined(separator: " ")
    }

    static func render(_ value: JSONValue) -> String {
        switch value {
        case .string(let text):
            return text.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) || text.isEmpty ? quoted(text) : text
        case .int(let number): return String(number)
        case .double(let number): return String(number)
        case .bool(let flag): return String(flag)
        case .null: return "null"
        case .array(let items): return items.map(render).joined(separator: ",")
        case .object:
            return (try? JSONCoding.encode(value, sortedKeys: true)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        }
    }

    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

/// Follows the live audit file like `tail -F`: new complete lines as they are appended, across
/// rotation (the renamed file is read to its end, then the new file from its start) and
/// truncation. Poll-based, so it needs no inotify and works on any file system.
public final class AuditFollower {
    public let path: String
    private var descriptor: Int32 = -1
    private var inode: ino_t = 0
    private var offset: off_t = 0
    private var partial: [UInt8] = []

    /// - fromEnd: start after what the file holds now (what `tail` already printed).
    public init(path: String, fromEnd: Bool) {
        self.path = path
        if reopen() && fromEnd {
            offset = lseek(descriptor, 0, SEEK_END)
        }
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Complete lines appended since the last call.
    public func poll() -> [String] {
        var lines = drain()
        var info = stat()
        if stat(path, &info) == 0 {
            let replaced = descriptor < 0 || info.st_ino != inode
            let truncated = !replaced && info.st_size < offset
            if replaced || truncated {
                if replaced, descriptor >= 0 {
                    // Lines written between the first drain and the rename are still there.
                    lines += drain()
                    close(descriptor)
                    descriptor = -1
                }
                partial = []
                if truncated { offset = 0 } else { reopen() }
                lines += drain()
            }
        }
        return lines
    }

    @discardableResult
    private func reopen() -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        var info = stat()
        fstat(fd, &info)
        descriptor = fd
        inode = info.st_ino
        offset = 0
        return true
    }

    private func drain() -> [String] {
        guard descriptor >= 0 else { return [] }
        var lines: [String] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, offset) }
            guard count > 0 else { break }
            offset += off_t(count)
            for byte in buffer[0..<count] {
                if byte == 0x0A {
                    lines.append(String(decoding: partial, as: UTF8.self))
                    partial.removeAll(keepingCapacity: true)
                } else if partial.count < 1 << 20 {
                    partial.append(byte)
                }
            }
        }
        return lines
    }
}
