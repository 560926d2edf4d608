import ClawgateMeshSQLite
import Foundation

extension Doctor {
    /// `PRAGMA integrity_check` on the mesh store. Never repaired automatically: moving a
    /// damaged database aside loses the mesh's tasks, so that stays the operator's call.
    func checkStore() -> DoctorFinding {
        let path = (paths.stateDir as NSString).appendingPathComponent("mesh.sqlite")
        switch SQLiteIntegrity.check(path: path) {
        case .ok:
            return DoctorFinding(check: "store", status: .ok, message: "\(path): integrity_check ok", path: path)
        case .missing:
            return DoctorFinding(check: "store", status: .ok, message: "\(path) does not exist yet (created at first start)", path: path)
        case .corrupt(let messages):
            return DoctorFinding(
                check: "store", status: .problem,
                message: "\(path) is damaged or not a SQLite database (\(messages.prefix(3).joined(separator: "; "))): "
                    + "stop the gateway, move the file aside (with its -wal and -shm files) and restore a backup; "
                    + "without one the gateway starts with an empty mesh",
                path: path
            )
        }
    }
}
