import Foundation
import ServiceLifecycle

/// Watches the active config file and hands changes to the reloader.
///
/// Polls `stat` (device, inode, size, mtime) every `interval` rather than using inotify:
/// editors and `config.*` replace the file by rename, which an inotify watch on the old inode
/// misses (a directory watch would be needed), Foundation on Linux has no file-event API, and
/// one `stat` per quarter second costs nothing. A change is handled once the stamp has held
/// still for one interval (debounce: editors write in steps); the content hash decides whether
/// anything changed, and every `fullCheckEvery` polls the content is hashed anyway, in case an
/// edit kept size and mtime.
struct ConfigWatcher: Service {
    let gateway: GatewayCore
    var interval: Duration = .milliseconds(250)
    var fullCheckEvery = 20

    func run() async throws {
        await cancelWhenGracefulShutdown { await poll() }
    }

    private func poll() async {
        let path = gateway.reloader.path
        var stamp = FileStamp(path: path)
        var changePending = false
        var polls = 0
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            // `off`: not watched (a `config.*` write may switch the mode back on).
            if await gateway.reloader.currentMode == .off { continue }
            polls += 1
            let now = FileStamp(path: path)
            if now != stamp {
                stamp = now
                changePending = true
                continue
            }
            if changePending || polls % fullCheckEvery == 0 {
                changePending = false
                await gateway.reloader.checkFile(gateway: gateway)
            }
        }
    }
}

/// What `stat` says about a file, enough to notice that it was rewritten or replaced.
struct FileStamp: Equatable {
    var exists: Bool
    var device: UInt64 = 0
    var inode: UInt64 = 0
    var size: Int64 = 0
    var modifiedSeconds: Int = 0
    var modifiedNanoseconds: Int = 0

    init(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            exists = false
            return
        }
        exists = true
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        #if os(Linux)
        modifiedSeconds = Int(info.st_mtim.tv_sec)
        modifiedNanoseconds = Int(info.st_mtim.tv_nsec)
        #else
        modifiedSeconds = Int(info.st_mtimespec.tv_sec)
        modifiedNanoseconds = Int(info.st_mtimespec.tv_nsec)
        #endif
    }
}
