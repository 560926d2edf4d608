import ClawgateProtocol
import ClawgateSupport
import Foundation

/// The security-relevant record of what happened at the gateway: append-only JSONL in the state
/// dir (`<stateDir>/logs/audit.jsonl`, mode 0600), rotated by size.
///
/// One line per event: `{"ts":"<ISO-8601>","tsMs":…,"event":"<name>",…fields}`. Callers pass
/// reasons, ids and hashes — never a secret: the log is meant to be shipped and read widely.
public final class AuditLog: Sendable {
    public let path: String
    private let file: RotatingFile?

    /// Event names, so readers (`clawgate audit tail --event`) and writers agree.
    public enum Event {
        public static let authSuccess = "auth.success"
        public static let authFailure = "auth.failure"
        public static let pairingDecision = "pairing.decision"
        /// A device asked to be paired (a decision is pending).
        public static let pairingRequest = "pairing.request"
        public static let configChange = "config.change"
        public static let adminRPC = "admin.rpc"
        public static let meshDenied = "mesh.denied"
    }

    public static let defaultMaxBytes = 10 * 1024 * 1024
    public static let defaultGenerations = 5

    public init(path: String, maxBytes: Int = defaultMaxBytes, generations: Int = defaultGenerations) throws {
        self.path = path
        self.file = try RotatingFile(path: path, maxBytes: maxBytes, generations: generations)
    }

    /// A log that records nothing (tools that only read state).
    private init(disabledAt path: String) {
        self.path = path
        self.file = nil
    }

    public static func disabled(path: String = "/dev/null") -> AuditLog { AuditLog(disabledAt: path) }

    /// Appends one event; a failed write is reported to the caller's logger by the returned flag
    /// rather than thrown, because auditing must never break the request it describes.
    @discardableResult
    public func record(_ event: String, _ fields: [String: JSONValue] = [:]) -> Bool {
        guard let file else { return false }
        let nowMs = Clock.nowMs()
        var object = fields
        object["event"] = .string(event)
        object["tsMs"] = .int(nowMs)
        object["ts"] = .string(Self.timestamp(ms: nowMs))
        guard let data = try? JSONCoding.encode(JSONValue.object(object), sortedKeys: true),
            let line = String(data: data, encoding: .utf8)
        else { return false }
        return file.appendLine(line)
    }

    /// UTC with the zone spelled out (`…T10:02:11.204Z`): audit lines are compared across machines.
    static func timestamp(ms: Int) -> String {
        Date(timeIntervalSince1970: Double(ms) / 1000)
            .formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
