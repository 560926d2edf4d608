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

    /// Whether this attempt is subject to limiting: loopback is exempt unless it carries a
    /// browser `Origin` (a web page on this machine is not a trusted local client).
    public func applies(to address: ClientAddress?, hasBrowserOrigin: Bool) -> Bool {
        guard let address else { return true }
        if address.isLoopback && currentPolicy.exemptLoopback && !hasBrowserOrigin { return false }
        return true
    }

    /// Milliseconds until the address may try again, or nil when it may try now.
    public func retryAfter(_ key: String, nowMs: Int) -> Int? {
        entries.withLock { entries in
            guard let until = entries[key]?.lockedUntilMs else { return nil }
            if until > nowMs { return until - nowMs }
            entries[key] = nil
            return nil
        }
    }

    /// Records a failure; returns the lockout in milliseconds when this failure triggered one.
    @discardableResult
    public func recordFailure(_ key: String, nowMs: Int) -> Int? {
        let policy = currentPolicy
        return entries.withLock { entries in
            var entry = entries[key] ?? Entry(windowStartMs: nowMs, failures: 0, lockedUntilMs: nil)
            if nowMs - entry.windowStartMs > policy.windowMs {
                entry = Entry(windowStartMs: nowMs, failures: 0, lockedUntilMs: nil)
            }
            entry.failures += 1
            var lockout: Int?
            if entry.failures >= policy.maxAttempts {
                entry.lockedUntilMs = nowMs + policy.lockoutMs
                lockout = policy.lockoutMs
            }
            if entries[key] == nil && entries.count >= capacity {
                Self.evict(&entries, nowMs: nowMs, windowMs: policy.windowMs)
            }
            entries[key] = entry
            return lockout
        }
    }

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
