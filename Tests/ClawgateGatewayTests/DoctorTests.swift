import ClawgateGateway
import ClawgateProtocol
import Foundation
import Testing

/// `clawgate doctor` through the built binary, on real state dirs.
@Suite("Doctor")
struct DoctorTests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func doctor(_ dir: String, _ arguments: [String] = [], port: Int) async throws -> Run {
        let environment = CLIProcessTests.environment(stateDir: dir, extra: ["OPENCLAW_GATEWAY_PORT": String(port)])
        let result = try await CLIProcessTests.run(["doctor"] + arguments, environment: environment)
        return Run(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }

    @Test func reportsAConfigSyntaxErrorWithItsLine() async throws {
        let dir = try CLIProcessTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = dir + "/clawgate.json"
        // Line 5 starts with `auth` where a comma was due after line 4.
        try """
            {
              // the gateway
              gateway: {
                bind: "loopback"
                auth: { mode: "token" },
              },
            }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        #expect(chmod(dir, 0o700) == 0)
        #expect(chmod(config, 0o600) == 0)
        let run = try await Self.doctor(dir, port: try freeLoopbackPort())
        #expect(run.status == 1)
        #expect(
            run.stdout.contains("PROBLEM config: \(config):5: not valid JSON5: expected ',' or '}' after a value, found 'a' (column 5)"),
            "\(run.stdout)"
        )
        #expect(run.stdout.contains("1 problem(s)."))
    }

    @Test func reportsAnUnknownKeyWithItsLine() async throws {
        let dir = try CLIProcessTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = dir + "/clawgate.json"
        try """
            {
              gateway: {
                port: 18789,
                auth: { mode: "token", rateLimit: { maxAttempts: 5 } },
                controlUi: { allowedOrigins: ["https://ops.example.com", "not an origin"] },
                "bindd": 'lan',
              },
            }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let run = try await Self.doctor(dir, port: try freeLoopbackPort())
        #expect(run.status == 1)
        // The first error the parser meets, at the line of its key (array element here).
        #expect(run.stdout.contains("PROBLEM config: \(config):6: gateway.bindd: unknown key"), "\(run.stdout)")

        try """
            {
              gateway: {
                controlUi: {
                  allowedOrigins: [
                    "https://ops.example.com",
                    "not an origin",
                  ],
                },
              },
            }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let second = try await Self.doctor(dir, ["--json"], port: try freeLoopbackPort())
        #expect(second.status == 1)
        let report = try JSONCoding.decode(DoctorReport.self, from: Data(second.stdout.utf8))
        let finding = try #require(report.findings.first { $0.check == "config" })
        #expect(finding.status == .problem)
        #expect(finding.line == 6)
        #expect(finding.message.contains("gateway.controlUi.allowedOrigins[1]: not an origin"))
    }

    @Test func findsAndFixesAnOpenTokenFile() async throws {
        let dir = try CLIProcessTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = try freeLoopbackPort()
        // A state dir as a gateway leaves it (token generated, mesh store created) …
        let gateway = try await CLIProcessTests.RunningGateway(environment: CLIProcessTests.environment(stateDir: dir))
        #expect(await gateway.stop() == 0)
        // The gateway keeps the mode of a state dir that already existed (the test made it).
        #expect(chmod(dir, 0o700) == 0)
        let tokenFile = dir + "/credentials/gateway-token"
        let token = try String(contentsOfFile: tokenFile, encoding: .utf8)
        let clean = try await Self.doctor(dir, port: port)
        #expect(clean.status == 0, "\(clean.stdout)")
        #expect(clean.stdout.contains("No problems found."))
        #expect(clean.stdout.contains("mesh.sqlite: integrity_check ok"))

        // … then someone loosens the token file.
        #expect(chmod(tokenFile, 0o644) == 0)
        let found = try await Self.doctor(dir, port: port)
        #expect(found.status == 1)
        #expect(found.stdout.contains("PROBLEM permissions: \(tokenFile) has mode 0644, readable by others (want 0600; --fix repairs it)"))

        let fixed = try await Self.doctor(dir, ["--fix"], port: port)
        #expect(fixed.status == 0, "\(fixed.stdout)")
        #expect(fixed.stdout.contains("fixed   permissions: chmod 0600 \(tokenFile) (was 0644)"))
        #expect(fixed.stdout.contains("No problems left (1 fixed)."))
        let mode = try FileManager.default.attributesOfItem(atPath: tokenFile)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // The fix never touches the content, and the output never shows it.
        #expect(try String(contentsOfFile: tokenFile, encoding: .utf8) == token)
        #expect(!fixed.stdout.contains(token) && !found.stdout.contains(token))
        #expect(try await Self.doctor(dir, port: port).status == 0)
    }

    @Test func reportsACorruptStore() async throws {
        let dir = try CLIProcessTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = dir + "/mesh.sqlite"
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        #expect(FileManager.default.createFile(atPath: store, contents: garbage, attributes: [.posixPermissions: 0o600]))
        let run = try await Self.doctor(dir, ["--fix"], port: try freeLoopbackPort())
        #expect(run.status == 1)
        #expect(run.stdout.contains("PROBLEM store: \(store) is damaged or not a SQLite database"), "\(run.stdout)")
        // Not "repaired": the file is left as it was for the operator.
        #expect(FileManager.default.contents(atPath: store) == garbage)
    }

    @Test func portHeldByThisStateDirsGatewayIsFineAnotherProgramIsNot() async throws {
        let dir = try CLIProcessTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(chmod(dir, 0o700) == 0)
        let gateway = try await CLIProcessTests.RunningGateway(environment: CLIProcessTests.environment(stateDir: dir))
        let instance = try #require(GatewayInstanceFile.read(stateDir: dir))
        #expect(instance.port == gateway.port)
        #expect(instance.pid == gateway.process.processIdentifier)
        let own = try await Self.doctor(dir, port: gateway.port)
        #expect(own.stdout.contains("ok      port: port \(gateway.port) is held by this state dir's gateway (pid \(instance.pid))"), "\(own.stdout)")
        #expect(own.status == 0, "\(own.stdout)")

        // The same port seen from another state dir: another gateway holds it.
        let other = try CLIProcessTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: other) }
        let foreign = try await Self.doctor(other, port: gateway.port)
        #expect(foreign.status == 1)
        #expect(foreign.stdout.contains("PROBLEM port: port \(gateway.port) is held by another gateway"))
        #expect(await gateway.stop() == 0)
        // A clean stop removes the instance file.
        #expect(GatewayInstanceFile.read(stateDir: dir) == nil)
    }
}
