import ClawgateProtocol
import Foundation

/// `clawgate config get|set|unset|validate`: reads and edits the active config file directly
/// (a running gateway picks the edit up through its watcher). Edits are validated as a whole
/// before anything is written; the previous file is kept as `.bak`; secrets are never printed.
public struct ConfigFileEditor: Sendable {
    public var paths: GatewayPaths
    public var environment: [String: String]

    public init(paths: GatewayPaths, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.paths = paths
        self.environment = environment
    }

    public var file: String { paths.configPath }

    /// A failed command: what to print and the exit code (78 for an invalid config, 1 otherwise).
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
        public var exitCode: Int32
        public var issues: [ConfigIssue]
    }

    public struct Validation: Sendable {
        public var document: ConfigDocument
        public var issues: [ConfigIssue]
        /// `file: key.path: message` lines.
        public var messages: [String]
        public var valid: Bool { issues.isEmpty }
    }

    /// Checks the file as the gateway would at startup (without creating the token file).
    public func validate() -> Validation {
        let document: ConfigDocument
        do {
            document = try ConfigDocument.read(path: file)
        } catch {
            return Validation(
                document: ConfigDocument(path: file, data: nil), issues: [ConfigIssue(path: error.keyPath, message: error.message)],
                messages: [error.description]
            )
        }
        do throws(ConfigRejection) {
            let tree: JSONValue
            do {
                tree = try document.tree()
            } catch {
                throw ConfigRejection(error)
            }
            _ = try check(tree)
            return Validation(document: document, issues: [], messages: [])
        } catch {
            return Validation(document: document, issues: error.issues, messages: [error.description])
        }
    }

    /// The value at `path` (the whole config for nil), secrets redacted.
    public func get(_ path: ConfigKeyPath?) throws(Failure) -> JSONValue {
        let tree = ConfigSecrets.redact(try currentTree().tree)
        guard let path else { return tree }
        guard let value = tree.value(at: path) else {
            throw Failure(description: "\(file): \(path): not set", exitCode: 1, issues: [])
        }
        return value
    }

    public struct Written: Sendable {
        public var hash: String
        public var previousHash: String
        public var backupPath: String?
    }

    /// Sets `value` at `path`, validates the whole config, writes it.
    public func set(_ value: JSONValue, at path: ConfigKeyPath) throws(Failure) -> Written {
        let (document, tree) = try currentTree()
        let updated: JSONValue
        do {
            // The redaction marker `get` prints stands for the secret already there.
            updated = try ConfigSecrets.restore(try tree.setting(value, at: path), from: tree)
        } catch {
            throw Failure(description: "\(file): \(error)", exitCode: 1, issues: [])
        }
        return try write(updated, replacing: document)
    }

    /// Removes the value at `path`, validates the whole config, writes it.
    public func unset(_ path: ConfigKeyPath) throws(Failure) -> Written {
        let (document, tree) = try currentTree()
        let (updated, removed) = tree.removing(at: path)
        guard removed else { throw Failure(description: "\(file): \(path): not set", exitCode: 1, issues: []) }
        return try write(updated, replacing: document)
    }

    /// A command-line value: JSON5 when it parses as JSON5 (`19000`, `true`, `["a"]`, `"x"`),
    /// otherwise the text itself as a string (`loopback`).
    public static func parseValue(_ text: String) -> JSONValue {
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
            let value = try? ConfigParser.parseTree(data: Data(text.utf8), file: "value")
        else { return .string(text) }
        return value
    }

    private func currentTree() throws(Failure) -> (document: ConfigDocument, tree: JSONValue) {
        do {
            let document = try ConfigDocument.read(path: file)
            return (document, try document.tree())
        } catch {
            throw Failure(
                description: "\(error) (fix the file first: clawgate config validate)", exitCode: 78,
                issues: [ConfigIssue(path: error.keyPath, message: error.message)]
            )
        }
    }

    private func check(_ tree: JSONValue) throws(ConfigRejection) -> (GatewayConfig, GatewaySettings) {
        let paths = self.paths
        let environment = self.environment
        return try ConfigRejection.check(tree, file: file) { config throws(GatewayStartupError) in
            try GatewaySettings.resolve(config: config, paths: paths, environment: environment)
        }
    }

    private func write(_ tree: JSONValue, replacing document: ConfigDocument) throws(Failure) -> Written {
        do {
            _ = try check(tree)
        } catch {
            throw Failure(description: "invalid configuration: \(error.description); the file was not changed", exitCode: 78, issues: error.issues)
        }
        do {
            let data = try ConfigDocument.render(tree)
            let backup = try ConfigDocument.write(data, to: file)
            return Written(hash: ConfigDocument.hash(of: data), previousHash: document.hash, backupPath: backup)
        } catch {
            throw Failure(description: "cannot write \(file): \(error)", exitCode: 1, issues: [])
        }
    }
}
