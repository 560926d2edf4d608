import ClawgateGateway
import ClawgateProtocol
import Foundation
import Testing

/// `clawgate config get|set|unset|validate`, run as the real executable on a real file.
@Suite("clawgate config")
struct ConfigCLITests {
    struct Sandbox {
        let dir: String
        var stateDir: String { (dir as NSString).appendingPathComponent("state") }
        var configPath: String { (stateDir as NSString).appendingPathComponent("clawgate.json") }
        var environment: [String: String] {
            ["HOME": dir, "OPENCLAW_STATE_DIR": stateDir, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        }

        func run(_ arguments: String...) async throws -> CLIProcessTests.Finished {
            try await CLIProcessTests.run(["config"] + arguments, environment: environment)
        }
    }

    func withSandbox(_ body: (Sandbox) async throws -> Void) async throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await body(Sandbox(dir: dir))
    }

    @Test func setGetUnsetKeepBackupsAndHideSecrets() async throws {
        try await withSandbox { sandbox in
            let missing = try await sandbox.run("validate")
            #expect(missing.status == 0)
            #expect(missing.stdout.contains("No config file at \(sandbox.configPath)"))

            let setPort = try await sandbox.run("set", "gateway.port", "19001")
            #expect(setPort.status == 0, "\(setPort.stderr)")
            #expect(setPort.stdout.contains("Set gateway.port in \(sandbox.configPath)"))
            #expect(fileMode(sandbox.configPath) == 0o600)
            #expect(try await sandbox.run("get", "gateway.port").stdout == "19001\n")
            let afterPort = try String(contentsOfFile: sandbox.configPath, encoding: .utf8)

            let secret = "CLI-secret-token-2d8e"
            let setToken = try await sandbox.run("set", "gateway.auth.token", secret, "--json")
            #expect(setToken.status == 0, "\(setToken.stderr)")
            #expect(!setToken.stdout.contains(secret))
            let answer = try JSONCoding.decode(JSONValue.self, from: Data(setToken.stdout.utf8))
            #expect(answer["ok"] == true)
            #expect(answer["key"] == "gateway.auth.token")
            #expect(answer["backup"] == .string(sandbox.configPath + ".bak"))
            #expect(answer["hash"] == .string(try fileHash(sandbox.configPath)))
            // The previous file is the backup, owner-only.
            #expect(try String(contentsOfFile: sandbox.configPath + ".bak", encoding: .utf8) == afterPort)
            #expect(fileMode(sandbox.configPath + ".bak") == 0o600)
            #expect(try String(contentsOfFile: sandbox.configPath, encoding: .utf8).contains(secret))

            // Reading never shows the secret.
            let token = try await sandbox.run("get", "gateway.auth.token")
            #expect(token.stdout == ConfigRedaction.sentinel + "\n")
            let whole = try await sandbox.run("get", "--json")
            #expect(!whole.stdout.contains(secret))
            let tree = try JSONCoding.decode(JSONValue.self, from: Data(whole.stdout.utf8))
            #expect(tree["gateway"]?["port"] == 19001)
            #expect(tree["gateway"]?["auth"]?["token"] == .string(ConfigRedaction.sentinel))

            // Strings, arrays and bracketed keys.
            #expect(try await sandbox.run("set", "gateway.bind", "loopback").status == 0)
            #expect(try await sandbox.run("set", "gateway.controlUi.allowedOrigins", "['https://a.example']").status == 0)
            #expect(try await sandbox.run("get", #"gateway["controlUi"].allowedOrigins[0]"#).stdout == "https://a.example\n")

            let unset = try await sandbox.run("unset", "gateway.port")
            #expect(unset.status == 0, "\(unset.stderr)")
            let gone = try await sandbox.run("get", "gateway.port")
            #expect(gone.status == 1)
            #expect(gone.stderr.contains("\(sandbox.configPath): gateway.port: not set"))
            let again = try await sandbox.run("unset", "gateway.port")
            #expect(again.status == 1)
            #expect(try await sandbox.run("validate").stdout.contains("Config valid: \(sandbox.configPath)"))
        }
    }

    @Test func invalidValuesAreRefusedAndTheFileIsKept() async throws {
        try await withSandbox { sandbox in
            #expect(try await sandbox.run("set", "gateway.port", "19002").status == 0)
            let before = try String(contentsOfFile: sandbox.configPath, encoding: .utf8)
            let range = try await sandbox.run("set", "gateway.port", "70000")
            #expect(range.status == 78)
            #expect(range.stderr.contains("\(sandbox.configPath): gateway.port: expected an integer from 1 to 65535, got 70000"))
            #expect(range.stderr.contains("the file was not changed"))
            let unknown = try await sandbox.run("set", "gateway.bindd", "lan")
            #expect(unknown.status == 78)
            #expect(unknown.stderr.contains("gateway.bindd: unknown key"))
            let badPath = try await sandbox.run("set", "gateway..port", "1")
            #expect(badPath.status != 0)
            #expect(badPath.stderr.contains("not a key path"))
            let throughScalar = try await sandbox.run("set", "gateway.port.x", "1")
            #expect(throughScalar.status == 1)
            #expect(throughScalar.stderr.contains("gateway.port: is number, not an object"))
            #expect(try String(contentsOfFile: sandbox.configPath, encoding: .utf8) == before)
        }
    }

    @Test func validateNamesTheFileAndKeyPath() async throws {
        try await withSandbox { sandbox in
            try FileManager.default.createDirectory(atPath: sandbox.stateDir, withIntermediateDirectories: true)
            try "{gateway: {bindd: 'lan'}}".write(toFile: sandbox.configPath, atomically: true, encoding: .utf8)
            let human = try await sandbox.run("validate")
            #expect(human.status == 78)
            #expect(human.stderr.contains("clawgate: \(sandbox.configPath): gateway.bindd: unknown key (known keys here:"))
            let json = try await sandbox.run("validate", "--json")
            #expect(json.status == 78)
            let report = try JSONCoding.decode(JSONValue.self, from: Data(json.stdout.utf8))
            #expect(report["valid"] == false)
            #expect(report["file"] == .string(sandbox.configPath))
            #expect(report["issues"]?[0]?["path"] == "gateway.bindd")
            // Broken JSON5 is reported too; set refuses to edit a file it cannot read.
            try "{gateway: ".write(toFile: sandbox.configPath, atomically: true, encoding: .utf8)
            let syntax = try await sandbox.run("validate")
            #expect(syntax.status == 78)
            #expect(syntax.stderr.contains("\(sandbox.configPath): not valid JSON5"))
            let edit = try await sandbox.run("set", "gateway.port", "1")
            #expect(edit.status == 78)
            #expect(edit.stderr.contains("clawgate config validate"))
        }
    }
}
