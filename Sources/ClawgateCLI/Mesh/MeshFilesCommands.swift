import ArgumentParser
import ClawgateProtocol
import Foundation

/// `clawgate mesh files …`: the namespace's shared, versioned text files. Every write bumps the
/// version; `--if-version N` makes a write or delete conditional (optimistic concurrency: it
/// fails with a version conflict when someone else changed the file since version N).
struct MeshFilesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "files", abstract: "Shared files of the namespace: put, get, list, delete.",
        subcommands: [MeshFilesPutCommand.self, MeshFilesGetCommand.self, MeshFilesListCommand.self, MeshFilesDeleteCommand.self],
        defaultSubcommand: MeshFilesListCommand.self
    )

    static func conflictHint(_ key: String) -> String {
        "read the current version with `clawgate mesh files get \(key) --json` and retry with its --if-version"
    }
}

struct MeshFilesPutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "put", abstract: "Write a shared file (creates or replaces it).")

    @OptionGroup var client: ClientOptions
    @Argument(help: "File key (e.g. notes/plan.md).") var key: String
    @Option(name: .customLong("file"), help: "Read the content from this local file (- for standard input).") var path: String?
    @Option(help: "The content, as text.") var content: String?
    @Option(name: .customLong("type"), help: "File type (default: the current one, else text).") var fileType: String?
    @Option(name: .customLong("if-version"), help: "Write only if the file is at this version (0: only if it does not exist).")
    var ifVersion: Int?
    @Flag(help: "Print JSON (the file's new metadata).") var json = false

    func validate() throws {
        switch (path, content) {
        case (nil, nil): throw ValidationError("give the content: --file PATH or --content TEXT")
        case (.some, .some): throw ValidationError("give either --file or --content, not both")
        default: break
        }
        if let ifVersion, ifVersion < 0 { throw ValidationError("--if-version must be >= 0") }
    }

    func run() async throws {
        let key = self.key
        let json = self.json
        let fileType = self.fileType
        let ifVersion = self.ifVersion
        try await MeshSession.run {
            let text = try content ?? Self.read(path ?? "-")
            let params = MeshFilePutParams(key: key, content: text, fileType: fileType, ifVersion: ifVersion)
            let file = try await MeshSession.withAgent(client) {
                try await $0.callReportingConflict("mesh.files.put", params, hint: MeshFilesCommand.conflictHint(key))
            }
            if json { return print(Output.json(file, pretty: false)) }
            print(
                "wrote file \(MeshFormat.string(file["key"])): version \(MeshFormat.string(file["version"])) "
                    + "(\(MeshFormat.string(file["size"], "0")) bytes, type \(MeshFormat.string(file["fileType"])))"
            )
        }
    }

    /// The text of `--file` (standard input for `-`); shared files hold UTF-8 text.
    static func read(_ path: String) throws -> String {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw MeshCLIError("cannot read --file \(path): no such file")
            }
            if isDirectory.boolValue { throw MeshCLIError("cannot read --file \(path): it is a directory") }
            guard FileManager.default.isReadableFile(atPath: path), let contents = FileManager.default.contents(atPath: path) else {
                throw MeshCLIError("cannot read --file \(path): permission denied")
            }
            data = contents
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw MeshCLIError("--file \(path) is not UTF-8 text (shared files hold text)")
        }
        return text
    }
}

struct MeshFilesGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Print a shared file's content (or write it to --output)."
    )

    @OptionGroup var client: ClientOptions
    @Argument(help: "File key.") var key: String
    @Option(help: "Write the content to this local file instead of standard output.") var output: String?
    @Flag(help: "Print JSON (the file record, content included).") var json = false

    func validate() throws {
        guard let output else { return }
        if output.isEmpty { throw ValidationError("--output must not be empty") }
        let directory = (output as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        if !directory.isEmpty, !(FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) && isDirectory.boolValue) {
            throw ValidationError("--output \(output): directory \(directory) does not exist")
        }
        if FileManager.default.fileExists(atPath: output, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ValidationError("--output \(output) is a directory")
        }
    }

    func run() async throws {
        let params = MeshKeyParams(key: key)
        let output = self.output
        let json = self.json
        try await MeshSession.run {
            let file = try await MeshSession.withAgent(client) { try await $0.call("mesh.files.get", params) }
            let content = file["content"]?.stringValue ?? ""
            if let output {
                do {
                    try Data(content.utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
                } catch {
                    throw MeshCLIError("cannot write --output \(output): \(error.localizedDescription)")
                }
            }
            if json { return print(Output.json(file, pretty: false)) }
            if let output {
                print(
                    "wrote file \(MeshFormat.string(file["key"])) (version \(MeshFormat.string(file["version"])), "
                        + "\(content.utf8.count) bytes) to \(output)"
                )
            } else {
                FileHandle.standardOutput.write(Data(content.utf8))
            }
        }
    }
}

struct MeshFilesListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the shared files (without content).")

    @OptionGroup var client: ClientOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let json = self.json
        try await MeshSession.run {
            let result = try await MeshSession.withAgent(client) { try await $0.call("mesh.files.list", EmptyParams()) }
            if json { return print(Output.json(result, pretty: false)) }
            let files = result["files"]?.arrayValue ?? []
            print(files.isEmpty ? "no files" : MeshFormat.files(files))
        }
    }
}

struct MeshFilesDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a shared file.")

    @OptionGroup var client: ClientOptions
    @Argument(help: "File key.") var key: String
    @Option(name: .customLong("if-version"), help: "Delete only if the file is at this version.") var ifVersion: Int?
    @Flag(help: "Print JSON (the deleted file's metadata).") var json = false

    func validate() throws {
        if let ifVersion, ifVersion < 0 { throw ValidationError("--if-version must be >= 0") }
    }

    func run() async throws {
        let key = self.key
        let params = MeshKeyParams(key: key, ifVersion: ifVersion)
        let json = self.json
        try await MeshSession.run {
            let file = try await MeshSession.withAgent(client) {
                try await $0.callReportingConflict("mesh.files.delete", params, hint: MeshFilesCommand.conflictHint(key))
            }
            if json { return print(Output.json(file, pretty: false)) }
            print("deleted file \(MeshFormat.string(file["key"])) (was version \(MeshFormat.string(file["version"])))")
        }
    }
}
