/// The last `capacity` (at most 32) finished tasks of an agent as success/failure bits: the
/// failure rate the health score uses, in constant memory per agent.
struct RecentOutcomes: Sendable, Equatable {
    static let capacity = 20

    private var bits: UInt32 = 0
    private(set) var count = 0

    mutating func record(failed: Bool) {
        bits = (bits << 1) | (failed ? 1 : 0)
        count = min(count + 1, Self.capacity)
    }

    var failures: Int {
        let mask: UInt32 = count >= 32 ? .max : (1 << UInt32(count)) - 1
        return (bits & mask).nonzeroBitCount
    }
}
