import Foundation

/// `systemctl --user`, run as a child process, when it is usable here: present on `PATH` and
/// connected to a user manager (not the case in most containers, or over SSH without a
/// lingering session).
public struct Systemctl: Sendable {
    public let executable: String
    public let environment: [String: String]

    public struct Result: Sendable {
        public var status: Int32
        public var output: String
    }

    /// The systemctl on `PATH` if the user manager answers; otherwise throws why not.
    public static func locate(environment: [String: String]) throws(Unusable) -> Systemctl {
        let searchPath = environment["PATH"] ?? "/usr/bin:/bin"
        guard
            let executable = searchPath.split(separator: ":").map({ ($0 as NSString).appendingPathComponent("systemctl") })
                .first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else { throw Unusable(reason: "systemctl not found on PATH") }
        let systemctl = Systemctl(executable: executable, environment: environment)
        let probe = systemctl.run(["--user", "show-environment"])
        guard probe.status == 0 else {
            let first = probe.output.split(separator: "\n").first.map(String.init) ?? "exit status \(probe.status)"
            throw Unusable(reason: "systemctl --user does not reach a user manager (\(first))")
        }
        return systemctl
    }

    public struct Unusable: Error, Sendable, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    /// Runs `systemctl <arguments>`; output is stdout and stderr together. Bounded in time:
    /// a hung systemd must not hang the CLI.
    public func run(_ arguments: [String], timeout: Duration = .seconds(30)) -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            return Result(status: -1, output: "cannot run \(executable): \(error)")
        }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while process.isRunning && ContinuousClock.now < deadline { usleep(20_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return Result(status: process.terminationStatus, output: output.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
