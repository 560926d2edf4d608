import ClawgateGateway
import ClawgateProtocol
import Foundation
import Testing

/// A TCP port nobody listens on right now (bound to 127.0.0.1:0, then released), for tests
/// that put a port in the config file.
func freePort() throws -> Int {
    let (fd, port) = try boundLoopbackSocket(listening: false)
    close(fd)
    return port
}

/// A listening socket on 127.0.0.1 (some other program on a port); close it with `close(fd)`.
func occupyPort() throws -> (fd: Int32, port: Int) {
    try boundLoopbackSocket(listening: true)
}

/// A TCP socket bound to an ephemeral port on 127.0.0.1, listening or not.
private func boundLoopbackSocket(listening: Bool) throws -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard bound == 0, named == 0, !listening || listen(fd, 4) == 0 else {
        close(fd)
        throw POSIXError(.EADDRINUSE)
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

/// Two different free ports.
func twoFreePorts() throws -> (Int, Int) {
    let first = try freePort()
    var second = try freePort()
    while second == first { second = try freePort() }
    return (first, second)
}

/// Replaces the config file the way editors do (write a temp file, rename over), mode 0600.
func writeConfigFile(_ text: String, to path: String) throws {
    let temporary = path + ".edit-\(UUID().uuidString.prefix(6))"
    guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
        throw POSIXError(.EIO)
    }
    guard rename(temporary, path) == 0 else { throw POSIXError(.EIO) }
}

/// Polls `check` until it returns a value (the watcher and restarts are asynchronous).
@discardableResult
func eventually<T: Sendable>(
    _ what: String, timeout: Duration = .seconds(15), _ check: @escaping @Sendable () async throws -> T?
) async throws -> T {
    try await withDeadline(timeout, what) {
        while true {
            if let value = try await check() { return value }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// The lines of a text file (empty when it does not exist yet).
func fileLines(_ path: String) -> [String] {
    ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
}

/// The audit log's `config.change` records.
func configAuditRecords(_ path: String) -> [JSONValue] {
    fileLines(path).compactMap { try? JSONCoding.decode(JSONValue.self, from: Data($0.utf8)) }
        .filter { $0["event"] == "config.change" }
}

/// Permission bits of a file.
func fileMode(_ path: String) -> Int {
    var info = stat()
    guard stat(path, &info) == 0 else { return -1 }
    return Int(info.st_mode & 0o777)
}

/// SHA-256 (hex) of the file's bytes, as `config.get` reports it.
func fileHash(_ path: String) throws -> String {
    try ConfigDocument.read(path: path).hash
}

/// Fails the test if any of `secrets` appears in any of the files.
func expectNoSecrets(_ secrets: [String], in paths: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    for path in paths {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        for secret in secrets where text.contains(secret) {
            Issue.record("\(path) contains the secret \(secret)", sourceLocation: sourceLocation)
        }
    }
}
