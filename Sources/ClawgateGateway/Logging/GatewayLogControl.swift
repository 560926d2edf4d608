import Logging
import Synchronization

/// The log level and file every `GatewayLogHandler` of the process reads, so a config reload
/// can change them after `LoggingSystem.bootstrap` (which runs once per process).
public final class GatewayLogControl: Sendable {
    /// Read on every log call: lock-free.
    private let levelIndex: Atomic<Int>
    private let output: Mutex<GatewayLogFile?>

    public init(level: Logger.Level, file: GatewayLogFile?) {
        self.levelIndex = Atomic(Self.index(of: level))
        self.output = Mutex(file)
    }

    public var level: Logger.Level {
        let index = levelIndex.load(ordering: .relaxed)
        let all = Logger.Level.allCases
        return all.indices.contains(index) ? all[index] : .info
    }

    public var file: GatewayLogFile? { output.withLock { $0 } }

    public func update(level: Logger.Level) {
        levelIndex.store(Self.index(of: level), ordering: .relaxed)
    }

    /// Switches to the file at `path` (created 0600 if missing); the old file stays in use when
    /// the new one cannot be opened, and the error is returned for the caller to log.
    @discardableResult
    public func update(filePath path: String) -> (any Error)? {
        if output.withLock({ $0?.path == path }) { return nil }
        do {
            let opened = try GatewayLogFile(path: path)
            output.withLock { $0 = opened }
            return nil
        } catch {
            return error
        }
    }

    private static func index(of level: Logger.Level) -> Int {
        Logger.Level.allCases.firstIndex(of: level) ?? 2
    }
}
