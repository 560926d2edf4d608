/// Connection roles: operators drive the control plane, nodes host capabilities.
public enum GatewayRole: String, Codable, Sendable, CaseIterable {
    case `operator`
    case node
}

/// Operator scopes (a closed set).
public enum OperatorScope {
    public static let read = "operator.read"
    public static let write = "operator.write"
    public static let admin = "operator.admin"
    public static let approvals = "operator.approvals"
    public static let pairing = "operator.pairing"
    public static let talkSecrets = "operator.talk.secrets"
    public static let questions = "operator.questions"
    public static let talk = "operator.talk"

    public static let all: Set<String> = [read, write, admin, approvals, pairing, talkSecrets, questions, talk]

    /// What the CLI asks for by default.
    public static let cliDefaults = [admin, read, write, approvals, pairing]

    /// Whether `granted` satisfies `required`, applying the implication rules:
    /// admin satisfies everything, write satisfies read and talk.
    public static func satisfies(granted: some Collection<String>, required: String) -> Bool {
        if granted.contains(admin) || granted.contains(required) { return true }
        if required == read && granted.contains(write) { return true }
        if required == talk && granted.contains(write) { return true }
        return false
    }
}
