import Foundation
import Logging
import Synchronization

/// The gateway's own log file (`<stateDir>/logs/gateway.log`), which `logs.tail` serves.
///
/// swift-log ships no file handler, so this small one appends JSON-free plain lines through a
/// locked file descriptor and rotates once the file passes `maxBytes` (one `.1` generation kept).
public final class GatewayLogFile: Sendable {
    public let path: String
    let maxBytes: Int
    private let state: Mutex<State>

    struct State {
        var descriptor: Int32
        var size: Int
    }

    public init(path: String, maxBytes: Int = 10 * 1024 * 1024) throws {
        self.path = path
        self.maxBytes = maxBytes
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var info = stat()
        fstat(fd, &info)
        self.state = Mutex(State(descriptor: fd, size: Int(info.st_size)))
    }

    deinit {
        state.withLock { _ = close($0.descriptor) }
    }

    public func append(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        state.withLock { state in
            if state.size + bytes.count > maxBytes { rotate(&state) }
            let written = bytes.withUnsafeBytes { write(state.descriptor, $0.baseAddress, $0.count) }
            if written > 0 { state.size += written }
        }
    }

    private func rotate(_ state: inout State) {
        close(state.descriptor)
        let rotated = path + ".1"
        unlink(rotated)
        rename(path, rotated)
        state.descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        state.size = 0
    }
}

/// A swift-log handler writing to stderr and, when given, the gateway log file.
public struct GatewayLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    let label: String
    let file: GatewayLogFile?
    let writeToStderr: Bool

    public init(label: String, level: Logger.Level, file: GatewayLogFile?, writeToStderr: Bool = true) {
        self.label = label
        self.logLevel = level
        self.file = file
        self.writeToStderr = writeToStderr
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let meta = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let timestamp = Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
        let line = "\(timestamp) \(event.level.rawValue.uppercased()) \(label): \(event.message)\(meta)"
        file?.append(line)
        if writeToStderr {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }
}
