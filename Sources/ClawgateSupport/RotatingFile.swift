import Foundation
import Synchronization

/// An append-only line file that rotates by size (`path.1` … `path.<generations>`), for the
/// gateway log and the audit log.
///
/// Hand-written because swift-log ships no file handler and the audit log needs append-only
/// writes with owner-only permissions: a locked descriptor opened `O_APPEND`, one `write` per line.
public final class RotatingFile: Sendable {
    public let path: String
    public let maxBytes: Int
    /// How many rotated files are kept besides the live one.
    public let generations: Int
    private let state: Mutex<State>

    struct State {
        var descriptor: Int32
        var size: Int
    }

    public init(path: String, maxBytes: Int, generations: Int = 1) throws {
        self.path = path
        self.maxBytes = max(1024, maxBytes)
        self.generations = max(1, generations)
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let fd = Self.openForAppend(path)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var info = stat()
        fstat(fd, &info)
        self.state = Mutex(State(descriptor: fd, size: Int(info.st_size)))
    }

    deinit {
        state.withLock { _ = close($0.descriptor) }
    }

    /// Appends `line` and a newline in one write; returns false when the write failed.
    @discardableResult
    public func appendLine(_ line: String) -> Bool {
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        return state.withLock { state in
            if state.size > 0, state.size + bytes.count > maxBytes { rotate(&state) }
            guard state.descriptor >= 0 else { return false }
            let written = bytes.withUnsafeBytes { write(state.descriptor, $0.baseAddress, $0.count) }
            if written > 0 { state.size += written }
            return written == bytes.count
        }
    }

    /// The live file and the rotated ones, oldest first (for readers such as `audit tail`).
    public static func generationPaths(of path: String, generations: Int) -> [String] {
        (1...max(1, generations)).reversed().map { "\(path).\($0)" } + [path]
    }

    private func rotate(_ state: inout State) {
        close(state.descriptor)
        unlink("\(path).\(generations)")
        if generations > 1 {
            for generation in (1..<generations).reversed() {
                rename("\(path).\(generation)", "\(path).\(generation + 1)")
            }
        }
        rename(path, "\(path).1")
        state.descriptor = Self.openForAppend(path)
        state.size = 0
    }

    private static func openForAppend(_ path: String) -> Int32 {
        open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
    }
}
