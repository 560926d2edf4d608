import HTTPTypes
import Testing

@testable import ClawgateGateway

/// `Authorization: Bearer <secret>` parsing, shared by every authenticated HTTP surface.
@Suite("Bearer header")
struct BearerHeaderTests {
    func bearer(_ value: String?) -> String? {
        var headers = HTTPFields()
        if let value { headers[.authorization] = value }
        return ClawLinkAuth.bearer(headers)
    }

    @Test(arguments: [
        ("Bearer sk-abc", "sk-abc"),
        ("bearer sk-abc", "sk-abc"),
        ("BEARER sk-abc", "sk-abc"),
        ("bEaReR sk-abc", "sk-abc"),
        ("  Bearer sk-abc", "sk-abc"),
        ("Bearer    sk-abc  ", "sk-abc"),
        ("Bearer \tsk-abc\t", "sk-abc"),
        ("Bearer two words", "two words"),
        ("Bearer ünïcødé", "ünïcødé"),
    ])
    func readsTheSecret(header: String, secret: String) {
        #expect(bearer(header) == secret)
    }

    @Test(arguments: [
        "Basic dXNlcjpwdw==", "Bearer", "Bearer ", "Bearer    ", "Bearer\tsk-abc", "Bearersk-abc", "Bearex sk-abc",
        "Token sk-abc", "",
    ])
    func refusesOtherShapes(header: String) {
        #expect(bearer(header) == nil)
    }

    @Test func absentHeaderIsNoSecret() {
        #expect(bearer(nil) == nil)
    }
}
