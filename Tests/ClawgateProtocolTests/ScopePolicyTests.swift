import ClawgateProtocol
import Testing

@Suite("Scope policy")
struct ScopePolicyTests {
    let read = OperatorScope.read
    let write = OperatorScope.write
    let admin = OperatorScope.admin
    let pairing = OperatorScope.pairing
    let approvals = OperatorScope.approvals

    @Test func classifiesCoreMethods() {
        #expect(ScopePolicy.requiredScope(for: "health") == read)
        #expect(ScopePolicy.requiredScope(for: "status") == read)
        #expect(ScopePolicy.requiredScope(for: "logs.tail") == read)
        #expect(ScopePolicy.requiredScope(for: "system-presence") == read)
        #expect(ScopePolicy.requiredScope(for: "sessions.usage.timeseries") == read)
        #expect(ScopePolicy.requiredScope(for: "chat.send") == write)
        #expect(ScopePolicy.requiredScope(for: "exec.approval.resolve") == approvals)
        #expect(ScopePolicy.requiredScope(for: "plugin.approval.list") == approvals)
        #expect(ScopePolicy.requiredScope(for: "device.pair.list") == pairing)
        #expect(ScopePolicy.requiredScope(for: "device.pair.approve") == pairing)
        #expect(ScopePolicy.requiredScope(for: "node.pair.request") == pairing)
        #expect(ScopePolicy.requiredScope(for: "device.token.rotate") == pairing)
        #expect(ScopePolicy.requiredScope(for: "device.token.revoke") == pairing)
    }

    @Test func reservedPrefixesAndUnclassifiedMethodsNeedAdmin() {
        // config.* is admin even where a narrower table entry would match.
        for method in ["config.get", "config.set", "config.schema.lookup", "exec.approvals.get", "wizard.start", "update.run"] {
            #expect(ScopePolicy.requiredScope(for: method) == admin, "\(method)")
        }
        for method in ["foo.bar", "sessions.delete", "", "healthz", "status.extra"] {
            #expect(ScopePolicy.requiredScope(for: method) == admin, "\(method)")
        }
    }

    @Test func readMethodIsAllowedByReadWriteOrAdmin() {
        #expect(ScopePolicy.authorize(method: "health", role: .operator, scopes: [read]) == nil)
        #expect(ScopePolicy.authorize(method: "health", role: .operator, scopes: [write]) == nil)
        #expect(ScopePolicy.authorize(method: "health", role: .operator, scopes: [admin]) == nil)
        #expect(ScopePolicy.authorize(method: "health", role: .operator, scopes: [pairing]) == .missingScope(read))
        #expect(ScopePolicy.authorize(method: "health", role: .operator, scopes: [String]()) == .missingScope(read))
    }

    @Test func writeIsNotSatisfiedByRead() {
        #expect(ScopePolicy.authorize(method: "chat.send", role: .operator, scopes: [read]) == .missingScope(write))
        #expect(ScopePolicy.authorize(method: "chat.send", role: .operator, scopes: [write]) == nil)
    }

    @Test func adminSatisfiesEverything() {
        for method in ["health", "chat.send", "device.pair.list", "exec.approval.request", "config.set", "whatever.new"] {
            #expect(ScopePolicy.authorize(method: method, role: .operator, scopes: [admin]) == nil, "\(method)")
        }
        #expect(ScopePolicy.authorize(method: "config.get", role: .operator, scopes: [read, write, pairing, approvals]) == .missingScope(admin))
        #expect(ScopePolicy.authorize(method: "foo.bar", role: .operator, scopes: [read, write]) == .missingScope(admin))
    }

    @Test func impliedScopes() {
        #expect(OperatorScope.satisfies(granted: [write], required: OperatorScope.talk))
        #expect(!OperatorScope.satisfies(granted: [read], required: OperatorScope.talk))
        #expect(!OperatorScope.satisfies(granted: [write], required: pairing))
        #expect(!OperatorScope.satisfies(granted: [pairing], required: approvals))
        #expect(OperatorScope.cliDefaults == [admin, read, write, approvals, pairing])
    }

    @Test func nodeOnlyMethods() {
        for method in ["node.invoke.result", "node.event", "node.pending.pull", "skills.bins"] {
            #expect(ScopePolicy.authorize(method: method, role: .node, scopes: [String]()) == nil, "\(method)")
            // Not even admin may call a node method as an operator.
            #expect(ScopePolicy.authorize(method: method, role: .operator, scopes: [admin]) == .wrongRole("operator"), "\(method)")
        }
        // Nodes may call nothing else.
        #expect(ScopePolicy.authorize(method: "health", role: .node, scopes: [admin]) == .wrongRole("node"))
        #expect(ScopePolicy.authorize(method: "node.invoke", role: .node, scopes: [String]()) == .wrongRole("node"))
    }

    @Test func v3MissingScopeErrorForm() {
        let error = ScopePolicy.error(for: .missingScope(read), protocolVersion: 3)
        #expect(error == ErrorShape(code: "INVALID_REQUEST", message: "missing scope: operator.read"))
    }

    @Test func v4MissingScopeErrorForm() {
        let error = ScopePolicy.error(for: .missingScope(pairing), protocolVersion: 4)
        #expect(error.code == "FORBIDDEN")
        #expect(error.message == "missing scope: operator.pairing")
        #expect(error.detailCode == "MISSING_SCOPE")
        #expect(error.details?["missingScope"] == "operator.pairing")
        #expect(error.details?["requiredScopes"] == ["operator.pairing"])
    }

    @Test func wrongRoleErrorIsTheSameInBothVersions() {
        for version in [3, 4] {
            let error = ScopePolicy.error(for: .wrongRole("node"), protocolVersion: version)
            #expect(error == ErrorShape(code: "INVALID_REQUEST", message: "unauthorized role: node"))
        }
    }
}
