import ClawgateGateway
import Foundation

/// The CLI's own mesh agent: which gateway it registered with, as whom, and the credential that
/// proves it. Kept in `<stateDir>/identity/mesh-agent.json` (mode 0600, directory 0700) because
/// the credential is shown only once, at first registration, and every later command needs it to
/// act as the same agent.
struct MeshIdentity: Codable, Equatable {
    var version = 1
    var url: String
    var agentId: String
    var namespace: String
    var credential: String
    /// What the agent registered with. Re-registration replaces the agent's profile, so every
    /// command re-sends it when it binds its connection; without this a `poll` would wipe the
    /// capabilities that `register --caps` set.
    var profile: Profile

    struct Profile: Codable, Equatable {
        var name: String?
        var capabilities: [String]?
        var agentTypes: [String]?
        var maxConcurrentTasks: Int?
        var description: String?
    }
}

/// Reads and writes the identity file.
struct MeshIdentityFile {
    let path: String

    /// The file for the state dir the CLI uses (`OPENCLAW_STATE_DIR`, default `~/.clawgate`).
    static func resolve() -> MeshIdentityFile {
        let paths = GatewayPaths.resolve()
        return MeshIdentityFile(path: (paths.identityDir as NSString).appendingPathComponent("mesh-agent.json"))
    }

    var directory: String { (path as NSString).deletingLastPathComponent }

    /// The stored identity, or nil when there is none yet. A file that exists but cannot be read
    /// is an error: silently replacing it would lose the credential.
    func load() throws -> MeshIdentity? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(MeshIdentity.self, from: data)
        } catch {
            throw MeshCLIError("\(path) is not a valid mesh agent identity (\(error)); move it away and run `clawgate mesh register`")
        }
    }

    /// The stored identity, or the error every non-register command gives when there is none.
    func require() throws -> MeshIdentity {
        guard let identity = try load() else {
            throw MeshCLIError("no mesh agent registered in \(path): run `clawgate mesh register` first")
        }
        return identity
    }

    /// Writes atomically with owner-only permissions from the first byte: the temporary file is
    /// created 0600 (never readable by others, whatever the umask) and renamed over the old one.
    func save(_ identity: MeshIdentity) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        _ = chmod(directory, 0o700)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data = try encoder.encode(identity)
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw MeshCLIError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        _ = fchmod(fd, 0o600)
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == data.count, synced == 0, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw MeshCLIError("cannot write \(path): \(reason)")
        }
    }
}

/// A CLI-side problem (no identity, bad input) with the message to print.
struct MeshCLIError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
