import ArgumentParser
import ClawgateGateway
import ClawgateProtocol
import Foundation

/// `clawgate config`: read and edit the active config file (`OPENCLAW_CONFIG_PATH`, default
/// `<stateDir>/clawgate.json`) on this machine. A running gateway applies the edit itself.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Read, edit and validate the gateway config file.",
        subcommands: [ConfigGetCommand.self, ConfigSetCommand.self, ConfigUnsetCommand.self, ConfigValidateCommand.self]
    )

    static var editor: ConfigFileEditor { ConfigFileEditor(paths: GatewayPaths.resolve()) }

    static func keyPath(_ text: String) throws -> ConfigKeyPath {
        guard let path = ConfigKeyPath(parsing: text) else {
            throw ValidationError("not a key path: \"\(text)\" (examples: gateway.port, agents.list[0].model, models.providers[\"my.proxy\"].apiKey)")
        }
        return path
    }

    static func fail(_ failure: ConfigFileEditor.Failure) -> ExitCode {
        FileHandle.standardError.write(Data("clawgate: \(failure.description)\n".utf8))
        return ExitCode(failure.exitCode)
    }

    static func written(_ written: ConfigFileEditor.Written, action: String, path: ConfigKeyPath, json: Bool) {
        let file = editor.file
        if json {
            var object: [String: JSONValue] = [
                "ok": true, "action": .string(action), "key": .string(path.description), "file": .string(file),
                "hash": .string(written.hash), "previousHash": .string(written.previousHash),
            ]
            if let backup = written.backupPath { object["backup"] = .string(backup) }
            print(Output.json(.object(object), pretty: false))
        } else {
            let backup = written.backupPath.map { " (previous file kept as \($0))" } ?? ""
            print("\(action == "set" ? "Set" : "Removed") \(path) in \(file)\(backup).")
        }
    }
}

/// `clawgate config get [path]`.
struct ConfigGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Print the config, or the value at a key path (secrets redacted)."
    )

    @Argument(help: "Key path, e.g. gateway.port or agents.list[0].model (default: the whole config).") var path: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let keyPath = try path.map(ConfigCommand.keyPath)
        let value: JSONValue
        do {
            value = try ConfigCommand.editor.get(keyPath)
        } catch {
            throw ConfigCommand.fail(error)
        }
        if !json, case .string(let text) = value {
            print(text)
        } else {
            print(Output.json(value, pretty: !json || keyPath == nil))
        }
    }
}

/// `clawgate config set <path> <value>`.
struct ConfigSetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set a value (JSON5: 19000, true, [\"a\"], {k: 1}; anything else is a string), keeping <file>.bak.",
        discussion: "The whole config is validated first; nothing is written when it is invalid (exit code 78)."
    )

    @Argument(help: "Key path, e.g. gateway.port.") var path: String
    @Argument(help: "The value.") var value: String
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        let keyPath = try ConfigCommand.keyPath(path)
        do {
            let written = try ConfigCommand.editor.set(ConfigFileEditor.parseValue(value), at: keyPath)
            ConfigCommand.written(written, action: "set", path: keyPath, json: json)
        } catch {
            throw ConfigCommand.fail(error)
        }
    }
}

/// `clawgate config unset <path>`.
struct ConfigUnsetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unset", abstract: "Remove a value (its default applies again), keeping <file>.bak."
    )

    @Argument(help: "Key path, e.g. gateway.controlUi.allowedOrigins.") var path: String
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        let keyPath = try ConfigCommand.keyPath(path)
        do {
            let written = try ConfigCommand.editor.unset(keyPath)
            ConfigCommand.written(written, action: "unset", path: keyPath, json: json)
        } catch {
            throw ConfigCommand.fail(error)
        }
    }
}

/// `clawgate config validate`.
struct ConfigValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check the config file as the gateway would; errors name the file and the key path (exit code 78)."
    )

    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        let editor = ConfigCommand.editor
        let result = editor.validate()
        if json {
            let issues = result.issues.map { JSONValue.object(["path": .string($0.path), "message": .string($0.message)]) }
            print(
                Output.json(
                    [
                        "valid": .bool(result.valid), "file": .string(editor.file), "exists": .bool(result.document.exists),
                        "hash": .string(result.document.hash), "issues": .array(issues),
                    ],
                    pretty: false
                )
            )
        } else if result.valid {
            print(result.document.exists ? "Config valid: \(editor.file)" : "No config file at \(editor.file): the defaults apply.")
        } else {
            for message in result.messages { FileHandle.standardError.write(Data("clawgate: \(message)\n".utf8)) }
        }
        if !result.valid { throw ExitCode(78) }
    }
}
