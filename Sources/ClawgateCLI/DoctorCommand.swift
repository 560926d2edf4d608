import ArgumentParser
import ClawgateGateway
import ClawgateProtocol
import Foundation

/// `clawgate doctor [--fix] [--json]`: checks the local installation; exit code 1 while
/// problems remain.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check config, state-dir permissions, store integrity, port, providers and clock; --fix repairs what is safe."
    )

    @Flag(help: "Repair what is safe: permissions (chmod 0600/0700) and missing directories.")
    var fix = false
    @Flag(help: "Print the findings as JSON.") var json = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let doctor = Doctor(paths: GatewayPaths.resolve(environment: environment), environment: environment, fix: fix)
        let report = await doctor.run()
        if json {
            let value = (try? JSONCoding.value(of: report)) ?? .null
            print(Output.json(value, pretty: false))
        } else {
            for finding in report.findings {
                let label: String
                switch finding.status {
                case .ok: label = "ok     "
                case .warning: label = "warn   "
                case .problem: label = "PROBLEM"
                case .fixed: label = "fixed  "
                }
                print("\(label) \(finding.check): \(finding.message)")
            }
            if report.problems == 0 {
                print(report.fixed > 0 ? "No problems left (\(report.fixed) fixed)." : "No problems found.")
            } else {
                print("\(report.problems) problem(s)\(fix ? " remain" : "")\(report.fixed > 0 ? ", \(report.fixed) fixed" : "").")
            }
        }
        if report.problems > 0 { throw ExitCode(1) }
    }
}
