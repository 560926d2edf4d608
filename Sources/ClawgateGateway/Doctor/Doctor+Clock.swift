import Foundation

extension Doctor {
    /// The earliest plausible date: this source's release year. A clock before it (or before
    /// the running binary was built) breaks device signatures (±2 min skew), leases and TLS.
    static let releaseFloor = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z

    /// Wall clock not before the build, and advancing like the monotonic clock.
    func checkClock() async -> [DoctorFinding] {
        var findings: [DoctorFinding] = []
        let now = Date()
        let built = Self.executableDate()
        let floor = max(Self.releaseFloor, built ?? Self.releaseFloor)
        // A day of slack: a binary built in another time zone or copied with odd times.
        if now < floor.addingTimeInterval(-86_400) {
            findings.append(
                DoctorFinding(
                    check: "clock", status: .problem,
                    message: "system clock says \(Self.iso(now)), before this build (\(Self.iso(floor))): set the time (NTP)"
                )
            )
        } else {
            findings.append(DoctorFinding(check: "clock", status: .ok, message: "system clock \(Self.iso(now)) is after this build"))
        }
        // Over a short interval, wall time and monotonic time must advance together; a
        // difference means the wall clock was stepped (manual change, NTP jump) meanwhile.
        let wallStart = Date()
        let monotonicStart = ContinuousClock.now
        try? await Task.sleep(for: .milliseconds(200))
        let wallElapsed = Date().timeIntervalSince(wallStart)
        let monotonicElapsed = ContinuousClock.now - monotonicStart
        let monotonicSeconds = Double(monotonicElapsed.components.seconds) + Double(monotonicElapsed.components.attoseconds) / 1e18
        let drift = abs(wallElapsed - monotonicSeconds)
        if drift > 1 {
            findings.append(
                DoctorFinding(
                    check: "clock", status: .problem,
                    message: String(format: "wall clock moved %.1f s against the monotonic clock within 0.2 s: it is being stepped", drift)
                )
            )
        } else {
            findings.append(DoctorFinding(check: "clock", status: .ok, message: "wall clock advances with the monotonic clock"))
        }
        return findings
    }

    /// When the running executable was written (its build, for a binary from `swift build`).
    static func executableDate() -> Date? {
        #if os(Linux)
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        #else
        let path = CommandLine.arguments[0]
        #endif
        return (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    static func iso(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
