import Synchronization

/// Decides whether a repeated, unremarkable audit event is recorded again: one line per key
/// and window. Used for HTTP bearer-auth successes, where a polling ClawLink agent would
/// otherwise write a line per request and rotate the security history out of the log.
/// Failures are never throttled.
final class AuditThrottle: Sendable {
    let windowMs: Int
    let maxKeys: Int
    private let lastRecorded = Mutex<[String: Int]>([:])

    init(windowMs: Int = 60_000, maxKeys: Int = 4096) {
        self.windowMs = windowMs
        self.maxKeys = maxKeys
    }

    /// True when `key` was not recorded within the window (and notes it as recorded now).
    func shouldRecord(_ key: String, nowMs: Int) -> Bool {
        lastRecorded.withLock { map in
            if let last = map[key], nowMs - last < windowMs { return false }
            if map.count >= maxKeys {
                map = map.filter { nowMs - $0.value < windowMs }
                // Still full of fresh keys (many distinct clients): forget the oldest half.
                if map.count >= maxKeys {
                    let keep = map.sorted { $0.value > $1.value }.prefix(maxKeys / 2)
                    map = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
                }
            }
            map[key] = nowMs
            return true
        }
    }
}
