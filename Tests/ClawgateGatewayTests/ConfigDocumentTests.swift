import ClawgateGateway
import ClawgateProtocol
import Foundation
import Testing

/// The pieces behind `config.*` and `clawgate config`: key paths, RFC 7386 merge patch, changed
/// paths, secret redaction and its round trip.
@Suite("Config documents")
struct ConfigDocumentTests {
    func tree(_ json5: String) throws -> JSONValue {
        try ConfigParser.parseTree(data: Data(json5.utf8), file: "test")
    }

    @Test func keyPathsParseAndPrint() throws {
        let simple = try #require(ConfigKeyPath(parsing: "gateway.auth.token"))
        #expect(simple.segments == [.key("gateway"), .key("auth"), .key("token")])
        #expect(simple.description == "gateway.auth.token")
        let indexed = try #require(ConfigKeyPath(parsing: "agents.list[0].model"))
        #expect(indexed.segments == [.key("agents"), .key("list"), .index(0), .key("model")])
        #expect(indexed.description == "agents.list[0].model")
        let quoted = try #require(ConfigKeyPath(parsing: #"models.providers["my.proxy"].apiKey"#))
        #expect(quoted.segments == [.key("models"), .key("providers"), .key("my.proxy"), .key("apiKey")])
        #expect(quoted.description == #"models.providers["my.proxy"].apiKey"#)
        for bad in ["", ".a", "a.", "a..b", "a[", "a[x]", "a]b", "a[0]b"] {
            #expect(ConfigKeyPath(parsing: bad) == nil, "\(bad) should not parse")
        }
    }

    @Test func settingAndRemovingValues() throws {
        let start = try tree("{gateway: {port: 1}, agents: {list: [{id: 'a'}]}}")
        let port = try #require(ConfigKeyPath(parsing: "gateway.port"))
        let set = try start.setting(2, at: port)
        #expect(set.value(at: port) == 2)
        let created = try start.setting("x", at: try #require(ConfigKeyPath(parsing: "logging.level")))
        #expect(created["logging"]?["level"] == "x")
        let appended = try start.setting(["id": "b"], at: try #require(ConfigKeyPath(parsing: "agents.list[1]")))
        #expect(appended["agents"]?["list"]?.arrayValue?.count == 2)
        let throughScalar = try #require(ConfigKeyPath(parsing: "gateway.port.x"))
        let error = #expect(throws: ConfigKeyPathError.self) { try start.setting(1, at: throughScalar) }
        #expect(error?.description == "gateway.port: is number, not an object")
        let outOfRange = try #require(ConfigKeyPath(parsing: "agents.list[5]"))
        #expect(throws: ConfigKeyPathError.self) { try start.setting(1, at: outOfRange) }
        let (removed, didRemove) = start.removing(at: port)
        #expect(didRemove)
        #expect(removed["gateway"] == .object([:]))
        #expect(start.removing(at: try #require(ConfigKeyPath(parsing: "gateway.bind"))).removed == false)
    }

    /// The examples of RFC 7386, appendix A.
    @Test func mergePatchFollowsRFC7386() throws {
        let cases: [(String, String, String)] = [
            ("{a: 'b'}", "{a: 'c'}", "{a: 'c'}"),
            ("{a: 'b'}", "{b: 'c'}", "{a: 'b', b: 'c'}"),
            ("{a: 'b'}", "{a: null}", "{}"),
            ("{a: 'b', b: 'c'}", "{a: null}", "{b: 'c'}"),
            ("{a: ['b']}", "{a: 'c'}", "{a: 'c'}"),
            ("{a: 'c'}", "{a: ['b']}", "{a: ['b']}"),
            ("{a: {b: 'c'}}", "{a: {b: 'd', c: null}}", "{a: {b: 'd'}}"),
            ("{a: [{b: 'c'}]}", "{a: [1]}", "{a: [1]}"),
            ("['a', 'b']", "['c', 'd']", "['c', 'd']"),
            ("{a: 'b'}", "['c']", "['c']"),
            ("{a: 'foo'}", "null", "null"),
            ("{a: 'foo'}", "'bar'", "'bar'"),
            ("{e: null}", "{a: 1}", "{e: null, a: 1}"),
            ("[1, 2]", "{a: 'b', c: null}", "{a: 'b'}"),
            ("{}", "{a: {bb: {ccc: null}}}", "{a: {bb: {}}}"),
        ]
        for (target, patch, expected) in cases {
            let result = JSONMergePatch.apply(try tree(patch), to: try tree(target))
            #expect(result == (try tree(expected)), "\(target) + \(patch)")
        }
    }

    @Test func changedPathsNameLeaves() throws {
        let old = try tree("{gateway: {port: 1, auth: {token: 'a'}}, agents: {list: [{id: 'x'}]}}")
        let new = try tree("{gateway: {port: 2, auth: {token: 'a'}, controlUi: {allowedOrigins: ['https://a']}}, agents: {list: [{id: 'y'}]}}")
        #expect(
            ConfigDiff.changedPaths(from: old, to: new) == ["agents.list", "gateway.controlUi.allowedOrigins", "gateway.port"]
        )
        #expect(ConfigDiff.changedPaths(from: old, to: old).isEmpty)
        #expect(ConfigDiff.changedPaths(from: .object([:]), to: try tree("{logging: {level: 'debug'}}")) == ["logging.level"])
    }

    @Test func secretsAreRedactedAndRestored() throws {
        let original = try tree(
            """
            {gateway: {auth: {token: 'T0KEN-x'}, remote: {token: 'T0KEN-x'}},
             models: {providers: {p: {baseUrl: 'http://h', api: 'openai-completions', apiKey: 'K3Y-y', headers: {'x-key': 'H3ADER-z'}},
                                  q: {baseUrl: 'http://h', api: 'openai-completions', apiKey: '${OPENAI_API_KEY}'}}},
             hooks: {token: 'H00K-w'}, logging: {level: 'info'}}
            """
        )
        let redacted = ConfigSecrets.redact(original)
        let sentinel = JSONValue.string(ConfigRedaction.sentinel)
        #expect(redacted["gateway"]?["auth"]?["token"] == sentinel)
        #expect(redacted["gateway"]?["remote"]?["token"] == sentinel)
        #expect(redacted["models"]?["providers"]?["p"]?["apiKey"] == sentinel)
        #expect(redacted["models"]?["providers"]?["p"]?["headers"]?["x-key"] == sentinel)
        #expect(redacted["models"]?["providers"]?["q"]?["apiKey"] == "${OPENAI_API_KEY}")
        #expect(redacted["hooks"]?["token"] == sentinel)
        #expect(redacted["logging"]?["level"] == "info")
        #expect(Set(ConfigSecrets.values(in: original)) == ["T0KEN-x", "K3Y-y", "H3ADER-z", "H00K-w"])
        // Written back unchanged, the sentinel stands for the secret in the file.
        #expect(try ConfigSecrets.restore(redacted, from: original) == original)
        // Anywhere else it is refused, naming the path.
        let misplaced = try redacted.setting(sentinel, at: try #require(ConfigKeyPath(parsing: "logging.level")))
        let error = #expect(throws: ConfigKeyPathError.self) { try ConfigSecrets.restore(misplaced, from: original) }
        #expect(error?.path == "logging.level")
        let newSecret = try redacted.setting(sentinel, at: try #require(ConfigKeyPath(parsing: "gateway.auth.password")))
        #expect(throws: ConfigKeyPathError.self) { try ConfigSecrets.restore(newSecret, from: original) }
    }

    @Test func rawTextIsRedactedOrWithheld() throws {
        let raw = "// the gateway\n{gateway: {auth: {token: \"S3CRET-raw\"}}, logging: {level: 'info'}}\n"
        let redacted = try #require(ConfigSecrets.redactRaw(raw, tree: try tree(raw)))
        #expect(!redacted.contains("S3CRET-raw"))
        #expect(redacted.contains("// the gateway"))
        #expect(redacted.contains(ConfigRedaction.sentinel))
        // A secret that also shows in a comment cannot be hidden by replacing values: no text.
        let commented = "// old token S3CRET-raw\n{gateway: {auth: {token: 'S3CRET-raw'}}}"
        #expect(ConfigSecrets.redactRaw(commented, tree: try tree(commented)) == nil)
    }

    @Test func commandLineValuesAreJSON5OrText() {
        #expect(ConfigFileEditor.parseValue("19000") == 19000)
        #expect(ConfigFileEditor.parseValue("true") == true)
        #expect(ConfigFileEditor.parseValue("['a', 'b']") == ["a", "b"])
        #expect(ConfigFileEditor.parseValue("{mode: 'hot'}") == ["mode": "hot"])
        #expect(ConfigFileEditor.parseValue("\"19000\"") == "19000")
        #expect(ConfigFileEditor.parseValue("loopback") == "loopback")
        #expect(ConfigFileEditor.parseValue("https://ops.example.com") == "https://ops.example.com")
        #expect(ConfigFileEditor.parseValue("") == "")
    }

    @Test func documentHashIsSHA256OfTheBytes() {
        let document = ConfigDocument(path: "/x", data: Data("{}\n".utf8))
        #expect(document.exists)
        // printf '{}\n' | sha256sum
        #expect(document.hash == "ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356")
        let missing = ConfigDocument(path: "/x", data: nil)
        #expect(!missing.exists)
        #expect(missing.hash == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}
