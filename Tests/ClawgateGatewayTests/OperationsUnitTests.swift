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
