import ClawgateProtocol
import ClawgateSupport
import Foundation

/// A running gateway, as it announces itself in `<stateDir>/gateway.pid` (JSON, written once
/// the listener is bound, removed at shutdown). `gateway status --deep` and `doctor` read it to
/// find other gateways on the machine and to tell "port held by our gateway" from "port taken".
public struct GatewayInstance: Codable, Sendable, Equatable {
    public var pid: Int32
    public var port: Int
    public var url: String
    public var stateDir: String
    public var version: String
    public var startedAtMs: Int

    public init(pid: Int32, port: Int, url: String, stateDir: String, version: String, startedAtMs: Int) {
        self.pid = pid
        self.port = port
        self.url = url
        self.stateDir = stateDir
        self.version = version
        self.startedAtMs = startedAtMs
    }
}

public enum GatewayInstanceFile {
    public static func path(stateDir: String) -> String {
        (stateDir as NSString).appendingPathComponent("gateway.pid")
    }

    static func write(_ instance: GatewayInstance) throws {
        try AtomicFile.write(try JSONCoding.encode(instance, sortedKeys: true), to: path(stateDir: instance.stateDir))
    }

    /// The instance recorded in `stateDir`, or nil (no file, unreadable, or not ours).
    public static func read(stateDir: String) -> GatewayInstance? {
        guard let data = FileManager.default.contents(atPath: path(stateDir: stateDir)) else { return nil }
        return try? JSONCoding.decode(GatewayInstance.self, from: data)
    }

    /// Removes the file if it still describes process `pid` (a newer gateway may own it now).
    static func remove(stateDir: String, pid: Int32) {
        guard read(stateDir: stateDir)?.pid == pid else { return }
        unlink(path(stateDir: stateDir))
    }

    /// Whether a process with this id exists (it may belong to another user: EPERM).
    public static func isAlive(pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// The recorded instance when its process still runs; a stale file (crash, kill -9) is
    /// reported as nothing.
    public static func running(stateDir: String) -> GatewayInstance? {
        guard let instance = read(stateDir: stateDir), isAlive(pid: instance.pid) else { return nil }
        return instance
    }
}
