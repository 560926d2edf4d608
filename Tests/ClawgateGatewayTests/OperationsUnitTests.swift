import ClawgateGateway
import ClawgateSupport
import Foundation
import Testing

@Suite("Rotating file")
struct RotatingFileTests {
    @Test func rotatesBySizeKeepingGenerationsOldestFirst() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = (dir as NSString).appendingPathComponent("logs/audit.jsonl")
        let file = try RotatingFile(path: path, maxBytes: 1024, generations: 2)
        // 100-byte lines (99 + newline): ten fit in 1 KiB, the eleventh rotates.
        let lines = (0..<35).map { String(format: "%03d", $0) + String(repeating: "a", count: 96) }
        for line in lines { #expect(file.appendLine(line)) }

        let generations = RotatingFile.generationPaths(of: path, generations: 2)
        #expect(generations == [path + ".2", path + ".1", path])
        let contents = try generations.map { try String(contentsOfFile: $0, encoding: .utf8) }
        // Each file stays within the limit and holds whole lines.
        for (index, text) in contents.enumerated() {
            #expect(text.utf8.count <= 1024, "\(generations[index])")
            #expect(text.hasSuffix("\n"))
        }
        // Ten lines per file: 0-9 rotated out (two old generations are kept), 10-34 remain in order.
        let kept = contents.joined().split(separator: "\n").map(String.init)
        #expect(kept == Array(lines[10...]))
        #expect(!FileManager.default.fileExists(atPath: path + ".3"))
        for file in generations {
            let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file)")
        }
        let directoryMode = try FileManager.default.attributesOfItem(atPath: (dir as NSString).appendingPathComponent("logs"))[.posixPermissions] as? Int
        #expect(directoryMode == 0o700)
    }

    @Test func reopeningAppendsAndCountsTheExistingSize() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = (dir as NSString).appendingPathComponent("gateway.log")
        let line = String(repeating: "b", count: 599)
        do {
            let file = try RotatingFile(path: path, maxBytes: 1024)
            file.appendLine(line)
        }
        // A restarted process appends to the same file and rotates when the total passes the limit.
        let reopened = try RotatingFile(path: path, maxBytes: 1024)
        reopened.appendLine(line)
        #expect(try String(contentsOfFile: path + ".1", encoding: .utf8) == line + "\n")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == line + "\n")
    }
}

@Suite("Config locator")
struct ConfigLocatorTests {
    static let text = """
        // top comment with { braces } and "quotes"
        {
          gateway: {
            port: 18789, /* block
            comment */ bind: 'loopback',
            "auth": {
              token: "a}b{c:d",
              mode: "token",
            },
            trustedProxies: [
              "10.0.0.1",

              "10.0.0.2",
            ],
            controlUi: { allowedOrigins: ["https://a.example", "https://b.example"] },
          },
          models: { providers: { local: { baseUrl: "http://127.0.0.1:4000/v1", models: [{ id: "m" }, { id: "n" }] } } },
        }
        """

    @Test func findsTheLinesOfKeysAndArrayElements() {
        #expect(ConfigLocator.line(of: "gateway", in: Self.text) == 3)
        #expect(ConfigLocator.line(of: "gateway.port", in: Self.text) == 4)
        #expect(ConfigLocator.line(of: "gateway.bind", in: Self.text) == 5)
        #expect(ConfigLocator.line(of: "gateway.auth", in: Self.text) == 6)
        #expect(ConfigLocator.line(of: "gateway.auth.mode", in: Self.text) == 8)
        #expect(ConfigLocator.line(of: "gateway.trustedProxies[0]", in: Self.text) == 11)
        #expect(ConfigLocator.line(of: "gateway.trustedProxies[1]", in: Self.text) == 13)
        #expect(ConfigLocator.line(of: "gateway.controlUi.allowedOrigins[1]", in: Self.text) == 15)
        #expect(ConfigLocator.line(of: "models.providers.local.models[1].id", in: Self.text) == 17)
        // A missing key is reported at its nearest ancestor.
        #expect(ConfigLocator.line(of: "gateway.auth.password", in: Self.text) == 6)
        #expect(ConfigLocator.line(of: "nothing.here", in: Self.text) == nil)
    }

    @Test func mapsSyntaxErrorPositionsToLines() {
        let data = Data("{\n  a: 1\n  b: 2\n}".utf8)
        #expect(ConfigLocator.syntaxErrorLine("Unexpected character 'b' around line 3, column 3.", in: data) == 3)
        #expect(ConfigLocator.syntaxErrorLine("Invalid value at offset 11", in: data) == 3)
        #expect(ConfigLocator.syntaxErrorLine("something else", in: data) == nil)
    }
}

@Suite("JSON5 syntax check")
struct JSON5SyntaxCheckTests {
    @Test func acceptsJSON5() {
        let valid = """
            // comment
            { unquoted: 'single', "double": "a\\"b", trailing: [1, 2.5, -3, +4, .5, 0x1F, 1e3, Infinity, NaN,],
              /* block */ nested: { t: true, f: false, n: null, }, $key_1: "line \\
            continued" }
            """
        #expect(JSON5SyntaxCheck.firstError(in: valid) == nil)
    }

    @Test func pointsAtTheFirstError() {
        func failure(_ text: String) -> (Int, String)? {
            JSON5SyntaxCheck.firstError(in: text).map { ($0.line, $0.message) }
        }
        let missingComma = failure("{\n  a: 1\n  b: 2\n}")
        #expect(missingComma?.0 == 3)
        #expect(missingComma?.1 == "expected ',' or '}' after a value, found 'b'")
        #expect(failure("{\n a: 'x\n}")?.0 == 2)
        #expect(failure("{\n a: lan\n}")?.1 == "unexpected word 'lan' where a value belongs (strings need quotes)")
        #expect(failure("{ a: [1, 2 }")?.1 == "expected ',' or ']' after a value, found '}'")
        #expect(failure("{ a: 1 }\n}")?.1 == "unexpected '}' after the top-level value")
        #expect(failure("{ a: 1,")?.1 == "unterminated object: expected a key or '}', found end of file")
        #expect(failure("{ a 1 }")?.1 == "expected ':' after the key, found '1'")
        #expect(failure(String(repeating: "[", count: 600))?.1 == "nesting deeper than 512 levels")
    }
}
