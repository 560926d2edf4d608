import ClawgateSupport
import Foundation
import Logging

/// The gateway's own log file (`<stateDir>/logs/gateway.log`), which `logs.tail` serves:
/// plain lines, rotated once the file passes `maxBytes` (one `.1` generation kept).
public final class GatewayLogFile: Sendable {
    public var path: String { file.path }
    private let file: RotatingFile

    public init(path: String, maxBytes: Int = 10 * 1024 * 1024) throws {
        self.file = try RotatingFile(path: path, maxBytes: maxBytes, generations: 1)
    }

    public func append(_ line: String) {
        file.appendLine(line)
    }
}

/// A swift-log handler writing to stderr and, when given, the gateway log file. Level and file
/// come from a `GatewayLogControl`, so a config reload changes them for every logger at once.
public struct GatewayLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    let label: String
    let control: GatewayLogControl
    let writeToStderr: Bool
    /// Set when a caller changes one logger's level (`logger.logLevel = …`).
    private var levelOverride: Logger.Level?

    public var logLevel: Logger.Level {
        get { levelOverride ?? control.level }
        set { levelOverride = newValue }
    }

    public init(label: String, level: Logger.Level, file: GatewayLogFile?, writeToStderr: Bool = true) {
        self.init(label: label, control: GatewayLogControl(level: level, file: file), writeToStderr: writeToStderr)
    }

    public init(label: String, control: GatewayLogControl, writeToStderr: Bool = true) {
        self.label = label
        self.control = control
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
        control.file?.append(line)
        if writeToStderr {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }
}
