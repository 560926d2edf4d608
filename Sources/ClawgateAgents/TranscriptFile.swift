import ClawgateProtocol
import ClawgateSupport
import Foundation

/// An append-only JSONL transcript (`<stateDir>/agents/<agentId>/sessions/<sessionId>.jsonl`):
/// a `session` header line, then one `message` entry per line, each linked to the previous one
/// by `parentId` as OpenClaw's session files are.
///
/// Crash safety: every append is one `write` of whole lines on an `O_APPEND` descriptor followed
/// by `fsync`. A crash can at worst leave a torn last line; readers skip lines that do not parse,
/// and the next append first terminates a torn line, so the file always stays readable.
public struct TranscriptFile: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// One line of the file.
    struct Entry: Codable {
        var type: String
        var id: String
        var parentId: String?
        var timestamp: String
        var message: TranscriptMessage?
        // header only
        var version: Int?
        var cwd: String?
        // injected notes
        var label: String?
    }

    public struct Contents: Sendable {
        public var messages: [TranscriptMessage]
        /// Lines that did not parse (a torn last line after a crash, or foreign entries).
        public var skippedLines: Int
        public var lastEntryId: String?
    }

    /// Creates the file with its header unless it exists.
    public func createIfMissing(sessionId: String, nowMs: Int) throws {
        guard !FileManager.default.fileExists(atPath: path) else { return }
        let header = Entry(
            type: "session", id: sessionId, parentId: nil, timestamp: Self.iso(nowMs), message: nil, version: 3,
            cwd: FileManager.default.currentDirectoryPath, label: nil
        )
        try appendLines([try Self.line(header)])
    }

    /// Appends messages after `parentId` (the last entry's id, which the caller caches so an
    /// append does not re-read the file); returns their entry ids.
    @discardableResult
    public func append(_ messages: [TranscriptMessage], parentId: String?, label: String? = nil) throws -> [String] {
        guard !messages.isEmpty else { return [] }
        var parent = parentId
        var lines: [Data] = []
        var ids: [String] = []
        for message in messages {
            let id = Self.newEntryId()
            let entry = Entry(
                type: "message", id: id, parentId: parent, timestamp: Self.iso(message.timestamp), message: message,
                version: nil, cwd: nil, label: label
            )
            lines.append(try Self.line(entry))
            ids.append(id)
            parent = id
        }
        try appendLines(lines)
        return ids
    }

    /// Reads every message; a missing file reads as empty.
    public func read() throws -> Contents {
        guard let data = FileManager.default.contents(atPath: path) else {
            return Contents(messages: [], skippedLines: 0, lastEntryId: nil)
        }
        var messages: [TranscriptMessage] = []
        var skipped = 0
        var lastId: String?
        let decoder = JSONDecoder()
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            guard let entry = try? decoder.decode(Entry.self, from: Data(line)) else {
                skipped += 1
                continue
            }
            lastId = entry.id
            if entry.type == "message", let message = entry.message { messages.append(message) }
        }
        return Contents(messages: messages, skippedLines: skipped, lastEntryId: lastId)
    }

    private func appendLines(_ lines: [Data]) throws {
        BlockingIO.assertOffEventLoop("transcript append (fsync) to \(path)")
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // Read-write: `endsTorn` reads the last byte.
        let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        var buffer = Data()
        if Self.endsTorn(fd: fd) { buffer.append(UInt8(ascii: "\n")) }
        for line in lines {
            buffer.append(line)
            buffer.append(UInt8(ascii: "\n"))
        }
        try buffer.withUnsafeBytes { raw in
            guard var base = raw.baseAddress else { return }
            var remaining = raw.count
            while remaining > 0 {
                let written = write(fd, base, remaining)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
                }
                remaining -= written
                base = base.advanced(by: written)
            }
        }
        guard fsync(fd) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    /// Whether the file is non-empty and its last byte is not a newline (a torn line).
    private static func endsTorn(fd: Int32) -> Bool {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0 else { return false }
        var last: UInt8 = 0
        return pread(fd, &last, 1, off_t(info.st_size - 1)) == 1 && last != UInt8(ascii: "\n")
    }

    private static func line(_ entry: Entry) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return try encoder.encode(entry)
    }

    static func newEntryId() -> String {
        String(UInt32.random(in: .min ... .max), radix: 16).leftPadded(to: 8)
    }

    static func iso(_ ms: Int) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
