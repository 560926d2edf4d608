import Synchronization

/// Limits failed authentication attempts per canonical client address.
///
/// After `maxAttempts` failures inside `window`, the address is locked out for `lockout`.
/// The table is bounded: expired entries are evicted first, then the oldest.
public final class AuthRateLimiter: Sendable {
    public struct Policy: Sendable, Equatable {
        public var maxAttempts: Int
        public var windowMs: Int
        public var lockoutMs: Int
        public var exemptLoopback: Bool

        public init(maxAttempts: Int = 10, windowMs: Int = 60_000, lockoutMs: Int = 300_000, exemptLoopback: Bool = true) {
            self.maxAttempts = maxAttempts
            self.windowMs = windowMs
            self.lockoutMs = lockoutMs
            self.exemptLoopback = exemptLoopback
        }
    }

    struct Entry {
        var windowStartMs: Int
        var failures: Int
        var lockedUntilMs: Int?
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let policy: Mutex<Policy>
    let capacity: Int

    public init(policy: Policy, capacity: Int = 10_000) {
        self.policy = Mutex(policy)
        self.capacity = capacity
    }

    public var currentPolicy: Policy { policy.withLock { $0 } }

    /// Whether this attempt is subject to limiting: only a direct loopback connection without a
    /// browser `Origin` is exempt (a web page on this machine, or anything arriving through a
    /// proxy, is not a trusted local client).
    public func applies(directLocal: Bool, hasBrowserOrigin: Bool) -> Bool {
        !(directLocal && currentPolicy.exemptLoopback && !hasBrowserOrigin)
    }

    /// Checks and counts one authentication attempt atomically, so parallel guesses cannot
    /// slip past the limit: at most `maxAttempts` attempts per window get through; the next one
    /// starts the lockout. Returns the milliseconds to wait when the attempt is refused.
    public func beginAttempt(_ key: String, nowMs: Int) -> Int? {
        let policy = currentPolicy
        return entries.withLock { entries in
            var entry = entries[key] ?? Entry(windowStartMs: nowMs, failures: 0, lockedUntilMs: nil)
            if let until = entry.lockedUntilMs {
                if until > nowMs { return until - nowMs }
                entry = Entry(windowStartMs: nowMs, failures: 0, lockedUntilMs: nil)
            }
            if nowMs - entry.windowStartMs > policy.windowMs {
                entry = Entry(windowStartMs: nowMs, failures: 0, lockedUntilMs: nil)
            }
            if entry.failures >= policy.maxAttempts {
                entry.lockedUntilMs = nowMs + policy.lockoutMs
                entries[key] = entry
                return policy.lockoutMs
            }
            entry.failures += 1
            if entries[key] == nil && entries.count >= capacity {
                Self.evict(&entries, nowMs: nowMs, windowMs: policy.windowMs)
            }
            entries[key] = entry
            return nil
        }
    }

    /// The attempt succeeded: forget the address's failures (a running lockout stays).
    public func recordSuccess(_ key: String) {
        entries.withLock { entries in
            if entries[key]?.lockedUntilMs == nil { entries[key] = nil }
        }
    }

    public func update(policy newPolicy: Policy) {
        policy.withLock { $0 = newPolicy }
    }

    var trackedCount: Int { entries.withLock { $0.count } }

    private static func evict(_ entries: inout [String: Entry], nowMs: Int, windowMs: Int) {
        entries = entries.filter { _, entry in
            if let until = entry.lockedUntilMs { return until > nowMs }
            return nowMs - entry.windowStartMs <= windowMs
        }
        if let oldest = entries.min(by: { $0.value.windowStartMs < $1.value.windowStartMs })?.key,
            entries.count >= 1
        {
            entries[oldest] = nil
        }
    }
}
