import Foundation

extension Doctor {
    /// Owner-only permissions on the state dir and everything secret in it: directories 0700,
    /// credentials, device and identity files, the mesh store and the audit log 0600. With
    /// `fix`: chmod what is too open and create the state and log directories if missing.
    func checkPermissions() -> [DoctorFinding] {
        var findings: [DoctorFinding] = []
        let fileManager = FileManager.default
        let stateDir = paths.stateDir
        var isDirectory: ObjCBool = false
        if !fileManager.fileExists(atPath: stateDir, isDirectory: &isDirectory) {
            guard fix else {
                return [
                    DoctorFinding(
                        check: "permissions", status: .warning,
                        message: "state dir \(stateDir) does not exist yet (the gateway creates it; --fix creates it now)", path: stateDir
                    )
                ]
            }
            do {
                for directory in [stateDir, paths.logsDir] {
                    try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                }
                findings.append(
                    DoctorFinding(check: "permissions", status: .fixed, message: "created \(stateDir) and \(paths.logsDir) (mode 0700)", path: stateDir)
                )
            } catch {
                return [DoctorFinding(check: "permissions", status: .problem, message: "cannot create \(stateDir): \(error)", path: stateDir)]
            }
        } else if !isDirectory.boolValue {
            return [DoctorFinding(check: "permissions", status: .problem, message: "state dir \(stateDir) is not a directory", path: stateDir)]
        } else if fix && !fileManager.fileExists(atPath: paths.logsDir) {
            do {
                try fileManager.createDirectory(atPath: paths.logsDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                findings.append(DoctorFinding(check: "permissions", status: .fixed, message: "created \(paths.logsDir) (mode 0700)", path: paths.logsDir))
            } catch {
                findings.append(DoctorFinding(check: "permissions", status: .problem, message: "cannot create \(paths.logsDir): \(error)", path: paths.logsDir))
            }
        }

        var targets: [(path: String, mode: mode_t)] = [(stateDir, 0o700)]
        for directory in [paths.credentialsDir, paths.devicesDir, paths.identityDir] {
            targets += Self.tree(directory)
        }
        targets += [(path: paths.logsDir, mode: 0o700), (path: (stateDir as NSString).appendingPathComponent("agents"), mode: 0o700)]
        let store = (stateDir as NSString).appendingPathComponent("mesh.sqlite")
        targets += ["", "-wal", "-shm"].map { (path: store + $0, mode: mode_t(0o600)) }
        targets += AuditReader.files(of: paths.auditFile).map { (path: $0, mode: mode_t(0o600)) }

        var checked = 0
        for target in targets {
            guard let finding = checkMode(target.path, expected: target.mode) else { continue }
            checked += 1
            if finding.status != .ok { findings.append(finding) }
        }
        if !findings.contains(where: { $0.status == .problem || $0.status == .warning }) {
            findings.append(
                DoctorFinding(check: "permissions", status: .ok, message: "\(stateDir): \(checked) state paths checked, all owner-only", path: stateDir)
            )
        }
        // The config often holds the shared token or provider keys.
        if let finding = checkMode(paths.configPath, expected: 0o600, severity: .warning), finding.status != .ok {
            findings.append(finding)
        }
        return findings
    }

    /// A directory and what it holds (two levels down): directories 0700, files 0600.
    static func tree(_ directory: String) -> [(path: String, mode: mode_t)] {
        var result: [(path: String, mode: mode_t)] = []
        func walk(_ path: String, depth: Int) {
            var info = stat()
            guard lstat(path, &info) == 0 else { return }
            if info.st_mode & S_IFMT == S_IFDIR {
                result.append((path: path, mode: 0o700))
                guard depth < 3, let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return }
                for name in names.sorted() { walk((path as NSString).appendingPathComponent(name), depth: depth + 1) }
            } else {
                result.append((path: path, mode: 0o600))
            }
        }
        walk(directory, depth: 0)
        return result
    }

    /// nil when `path` does not exist; `ok` when it is owner-only; else a problem (or, with
    /// `fix`, `fixed`). Symlinks and files of other users are reported, never changed.
    func checkMode(_ path: String, expected: mode_t, severity: DoctorFinding.Status = .problem) -> DoctorFinding? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        let mode = info.st_mode & 0o777
        let kind = info.st_mode & S_IFMT
        if kind == S_IFLNK {
            return DoctorFinding(check: "permissions", status: .warning, message: "\(path) is a symlink; not checked", path: path)
        }
        guard mode & 0o077 != 0 else { return DoctorFinding(check: "permissions", status: .ok, message: path, path: path) }
        let shown = String(mode, radix: 8)
        let wanted = String(expected, radix: 8)
        if info.st_uid != geteuid() && geteuid() != 0 {
            return DoctorFinding(
                check: "permissions", status: severity,
                message: "\(path) has mode 0\(shown) (want 0\(wanted)) and belongs to uid \(info.st_uid); fix it as that user", path: path
            )
        }
        guard fix else {
            return DoctorFinding(
                check: "permissions", status: severity,
                message: "\(path) has mode 0\(shown), readable by others (want 0\(wanted); --fix repairs it)", path: path
            )
        }
        guard chmod(path, expected) == 0 else {
            return DoctorFinding(
                check: "permissions", status: severity,
                message: "\(path) has mode 0\(shown); chmod 0\(wanted) failed: \(String(cString: strerror(errno)))", path: path
            )
        }
        return DoctorFinding(check: "permissions", status: .fixed, message: "chmod 0\(wanted) \(path) (was 0\(shown))", path: path)
    }
}
