import ClawgateProtocol
import ClawgateSupport
import Crypto
import Foundation

/// The config file as bytes on disk: what `config.get` shows, what `baseHash` guards, and what
/// the watcher compares. A missing file is an empty document that `exists` says is missing.
public struct ConfigDocument: Sendable, Equatable {
    public let path: String
    public let exists: Bool
    public let data: Data
    /// SHA-256 (hex) of `data` — OpenClaw's config hash, so `baseHash` values agree.
    public let hash: String

    public init(path: String, data: Data?) {
        self.path = path
        self.exists = data != nil
        self.data = data ?? Data()
        self.hash = Self.hash(of: self.data)
    }

    public static func hash(of data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    public var text: String { String(decoding: data, as: UTF8.self) }

    /// Reads the file now; an unreadable file is an error naming it.
    public static func read(path: String) throws(ConfigError) -> ConfigDocument {
        guard FileManager.default.fileExists(atPath: path) else { return ConfigDocument(path: path, data: nil) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, keyPath: "", message: "cannot read the file (check its permissions)")
        }
        return ConfigDocument(path: path, data: data)
    }

    /// The JSON tree (`{}` for a missing or blank file).
    public func tree() throws(ConfigError) -> JSONValue {
        try ConfigParser.parseTree(data: data, file: path)
    }

    /// How the gateway and the CLI write a config they built: JSON (valid JSON5), sorted keys,
    /// two-space indent. Comments of the previous text are not kept (the `.bak` has them).
    public static func render(_ tree: JSONValue) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(tree)
        data.append(0x0A)
        return data
    }

    /// Replaces the file: the current one is kept as `<path>.bak`, the new one is written
    /// atomically, both owner-only (0600). Returns the backup's path, if there was a file.
    @discardableResult
    public static func write(_ data: Data, to path: String) throws -> String? {
        var backup: String?
        if let current = FileManager.default.contents(atPath: path) {
            let bak = path + ".bak"
            try AtomicFile.write(current, to: bak, mode: 0o600)
            backup = bak
        }
        try AtomicFile.write(data, to: path, mode: 0o600)
        return backup
    }
}
