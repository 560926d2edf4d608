/// One result of `clawgate doctor`.
public struct DoctorFinding: Codable, Sendable, Equatable {
    /// `problem` makes doctor exit non-zero; `fixed` was a problem that `--fix` repaired.
    public enum Status: String, Codable, Sendable {
        case ok, warning, problem, fixed
    }

    /// `config`, `permissions`, `store`, `port`, `providers`, `clock`.
    public var check: String
    public var status: Status
    public var message: String
    public var path: String?
    /// 1-based line in `path` (config problems).
    public var line: Int?

    public init(check: String, status: Status, message: String, path: String? = nil, line: Int? = nil) {
        self.check = check
        self.status = status
        self.message = message
        self.path = path
        self.line = line
    }
}

/// Everything doctor found, in check order.
public struct DoctorReport: Codable, Sendable, Equatable {
    public var findings: [DoctorFinding]

    public init(findings: [DoctorFinding]) {
        self.findings = findings
    }

    /// Problems that remain (after `--fix`).
    public var problems: Int { findings.filter { $0.status == .problem }.count }
    public var fixed: Int { findings.filter { $0.status == .fixed }.count }
}
