import Synchronization

/// Everything the server shares between concurrent requests: scripts, the request log and the
/// counters tests poll. One lock, held only for a few field updates, so the hot path stays cheap.
final class UpstreamState: Sendable {
    struct Storage {
        var scripts: [String: [UpstreamStep]] = [:]
        /// Models `GET /v1/models` lists, in the order they were first seen.
        var models: [String] = ["test-model"]
        var requests: [RecordedRequest] = []
        /// Every request received, also when they are not recorded.
        var requestCount = 0
        /// Source of the numbers in ids (`chatcmpl-<n>`, `call_<n>`, …): deterministic per server.
        var lastID = 0
        var cancelled = 0
        var inFlight = 0
    }

    let apiKey: String?
    /// Off for long benchmark runs, whose request log would grow without bound.
    let recordsRequests: Bool
    private let storage = Mutex(Storage())
    private let shuttingDown = Atomic(false)

    init(apiKey: String?, recordsRequests: Bool = true) {
        self.apiKey = apiKey
        self.recordsRequests = recordsRequests
    }

    func script(model: String, _ steps: [UpstreamStep]) {
        storage.withLock { storage in
            storage.scripts[model, default: []].append(contentsOf: steps)
            if !storage.models.contains(model) { storage.models.append(model) }
        }
    }

    /// The next scripted step for `model`, or `.echo` when nothing is queued.
    func nextStep(model: String) -> UpstreamStep {
        storage.withLock { storage in
            guard var queue = storage.scripts[model], !queue.isEmpty else { return .echo }
            let step = queue.removeFirst()
            storage.scripts[model] = queue.isEmpty ? nil : queue
            return step
        }
    }

    func nextID() -> Int {
        storage.withLock { storage in
            storage.lastID += 1
            return storage.lastID
        }
    }

    /// Records a request and counts it in flight until the returned token finishes.
    func begin(_ request: RecordedRequest) -> InFlightToken {
        storage.withLock { storage in
            if recordsRequests { storage.requests.append(request) }
            storage.requestCount += 1
            storage.inFlight += 1
        }
        return InFlightToken(state: self)
    }

    fileprivate func end(cancelled: Bool) {
        storage.withLock { storage in
            storage.inFlight -= 1
            if cancelled { storage.cancelled += 1 }
        }
    }

    /// Ends every hang: graceful shutdown waits for in-flight requests, and a hang never ends
    /// on its own.
    func beginShutdown() {
        shuttingDown.store(true, ordering: .releasing)
    }

    /// What a hanging request does: nothing, until the server shuts down (then it throws
    /// `CancellationError`) or the surrounding task is cancelled because the client left.
    func hangUntilShutdown() async throws {
        while !shuttingDown.load(ordering: .acquiring) {
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CancellationError()
    }

    var models: [String] { storage.withLock { $0.models } }
    var requests: [RecordedRequest] { storage.withLock { $0.requests } }
    var requestCount: Int { storage.withLock { $0.requestCount } }
    var cancelledCount: Int { storage.withLock { $0.cancelled } }
    var inFlightCount: Int { storage.withLock { $0.inFlight } }
}

/// Marks one request as being answered. `finish` is idempotent; if a streamed response body is
/// dropped without ever being written (the client left before the head went out), `deinit` still
/// takes the request out of the in-flight count, as cancelled.
final class InFlightToken: Sendable {
    private let state: UpstreamState
    private let finished = Atomic(false)

    init(state: UpstreamState) {
        self.state = state
    }

    /// `cancelled`: the client went away (or the server shut down) before the answer was complete.
    func finish(cancelled: Bool = false) {
        guard !finished.exchange(true, ordering: .acquiringAndReleasing) else { return }
        state.end(cancelled: cancelled)
    }

    deinit {
        finish(cancelled: true)
    }
}
