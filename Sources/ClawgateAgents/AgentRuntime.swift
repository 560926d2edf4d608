import ClawgateModels
import CoreMetrics
import Foundation
import Logging
import Synchronization
import DequeModule

/// Runs hosted agents: one lane per session key (runs of a session never overlap and start in
/// the order they were submitted), abort that really stops the upstream request, run ids that
/// make repeats idempotent, and `wait` for a run's end.
public final class AgentRuntime: Sendable {
    public let sessions: SessionStore
    private let logger: Logger
    private let state: Mutex<State>
    /// Kept apart from the run state: read on every request, replaced only on reload.
    private let currentSetup: Mutex<Setup>
    /// Receives `openclaw_agent_deliberations_total` (one per finished run, by agent and status).
    private let metrics: any MetricsFactory

    public static let deliberationsTotal = "openclaw_agent_deliberations_total"

    /// What may change on a config reload: agents, models, tools.
    public struct Setup: Sendable {
        public var catalog: AgentCatalog
        public var router: ModelRouter
        public var tools: ToolRegistry
        public var limits: RunLimits
        /// Whether an agent id outside the catalog is a connected remote agent.
        public var isRemote: @Sendable (String) -> Bool
        /// Runs a remote agent's turn (the gateway delegates it over the mesh) and returns its reply.
        public var remoteTurn: @Sendable (RemoteTurn) async throws -> String

        public init(
            catalog: AgentCatalog, router: ModelRouter, tools: ToolRegistry, limits: RunLimits = RunLimits(),
            isRemote: @escaping @Sendable (String) -> Bool = { _ in false },
            remoteTurn: @escaping @Sendable (RemoteTurn) async throws -> String = { turn in
                throw AgentError(.unavailable, "agent \(turn.agentId) is not connected")
            }
        ) {
            self.catalog = catalog
            self.router = router
            self.tools = tools
            self.limits = limits
            self.isRemote = isRemote
            self.remoteTurn = remoteTurn
        }
    }

    private struct State {
        var runs: [String: RunRecord] = [:]
        /// Finished runs in the order they ended, for pruning from the front.
        var finishedOrder: Deque<(endedAt: Int, runId: String)> = []
        /// The last run submitted per session key; the next one waits for it.
        var laneTails: [String: Task<Void, Never>] = [:]
        /// Waiters whose timeout fired before they registered.
        var expiredWaiters: Set<UUID> = []
    }

    private struct RunRecord {
        var sessionKey: String
        var agentId: String
        var submittedAt: Int
        var startedAt: Int?
        var outcome: RunOutcome?
        var task: Task<Void, Never>?
        var timedOut = false
        var waiters: [UUID: CheckedContinuation<RunOutcome?, Never>] = [:]
    }

    public init(setup: Setup, sessions: SessionStore, logger: Logger, metrics: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.sessions = sessions
        self.logger = logger
        self.metrics = metrics
        self.state = Mutex(State())
        self.currentSetup = Mutex(setup)
    }

    public var setup: Setup { currentSetup.withLock { $0 } }
    public var catalog: AgentCatalog { setup.catalog }

    /// Swaps agents, models and tools; runs already going keep the setup they started with.
    public func replace(setup: Setup) {
        currentSetup.withLock { $0 = setup }
    }

    /// The result of submitting a run.
    public enum Submission: Sendable {
        case started(RunInfo)
        /// The run id is already running (an idempotent repeat).
        case inFlight(runId: String)
        /// The run id already finished; its outcome.
        case finished(RunOutcome)
    }

    /// Submits a run; it starts once the session's previous runs have ended. `observer` gets the
    /// run's events (from the run's task, in order).
    public func submit(_ request: RunRequest, observer: @escaping @Sendable (RunEvent) -> Void) throws(AgentError) -> Submission {
        let now = RunExecutor.nowMs()
        let key = request.sessionKey
        let setup = self.setup
        let decision: Submission = try state.withLock { state throws(AgentError) -> Submission in
            prune(&state, limits: setup.limits, nowMs: now)
            if let existing = state.runs[request.runId] {
                if let outcome = existing.outcome { return .finished(outcome) }
                return .inFlight(runId: request.runId)
            }
            guard let agent = setup.catalog.agent(key.agentId) ?? (setup.isRemote(key.agentId) ? .remote(id: key.agentId) : nil) else {
                throw AgentError.notFound("unknown agent \"\(key.agentId)\"")
            }
            let previous = state.laneTails[key.raw]
            let executor = RunExecutor(
                agent: agent, request: request, router: setup.router, sessions: sessions, tools: setup.tools, limits: setup.limits,
                remoteTurn: setup.remoteTurn, logger: logger, emit: observer
            )
            // A run that writes a transcript (fsync) runs on the cooperative pool, and so do the
            // tasks it starts: an idle default actor (the session store) runs on the executor
            // its first caller prefers, so no caller of it may prefer an event loop.
            let affinity = executor.persists ? nil : TaskAffinity.executor
            let task = Task(executorPreference: affinity) { [weak self] in
                await TaskAffinity.$executor.withValue(affinity) {
                    await previous?.value
                    await self?.execute(executor, observer: observer)
                }
            }
            state.runs[request.runId] = RunRecord(sessionKey: key.raw, agentId: key.agentId, submittedAt: now, task: task)
            state.laneTails[key.raw] = task
            return .started(RunInfo(runId: request.runId, sessionKey: key.raw, agentId: key.agentId, startedAt: now))
        }
        if case .started = decision, let timeout = request.timeoutMs {
            scheduleTimeout(runId: request.runId, afterMs: timeout)
        }
        return decision
    }

    /// Stops the session's running and queued runs (or just `runId`); returns the ids stopped.
    public func abort(sessionKey: String, runId: String? = nil) -> [String] {
        state.withLock { state in
            var stopped: [String] = []
            for (id, record) in state.runs where record.sessionKey == sessionKey && record.outcome == nil {
                if let runId, runId != id { continue }
                record.task?.cancel()
                stopped.append(id)
            }
            return stopped.sorted()
        }
    }

    /// Runs of a session that have not ended.
    public func activeRuns(sessionKey: String) -> [String] {
        state.withLock { state in
            state.runs.filter { $0.value.sessionKey == sessionKey && $0.value.outcome == nil }.map(\.key).sorted()
        }
    }

    public func outcome(runId: String) -> RunOutcome? {
        state.withLock { $0.runs[runId]?.outcome }
    }

    public func isKnown(runId: String) -> Bool {
        state.withLock { $0.runs[runId] != nil }
    }

    /// Waits for the run's end up to `timeoutMs`; nil when it did not end in time (or is unknown).
    public func wait(runId: String, timeoutMs: Int) async -> RunOutcome? {
        let waiterId = UUID()
        let timer = Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(max(0, timeoutMs)))
            guard let self, !Task.isCancelled else { return }
            let continuation = self.state.withLock { state -> CheckedContinuation<RunOutcome?, Never>? in
                if let continuation = state.runs[runId]?.waiters.removeValue(forKey: waiterId) { return continuation }
                // Not registered yet: leave a mark so registration gives up at once.
                state.expiredWaiters.insert(waiterId)
                return nil
            }
            continuation?.resume(returning: nil)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { (continuation: CheckedContinuation<RunOutcome?, Never>) in
            let immediate: RunOutcome?? = state.withLock { state in
                if state.expiredWaiters.remove(waiterId) != nil { return .some(nil) }
                guard var record = state.runs[runId] else { return .some(nil) }
                if let outcome = record.outcome { return .some(outcome) }
                record.waiters[waiterId] = continuation
                state.runs[runId] = record
                return .none
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }

    /// Stops every run (gateway shutdown) and waits for them to record their end.
    public func shutdown() async {
        let tasks = state.withLock { state in
            state.runs.values.filter { $0.outcome == nil }.compactMap(\.task)
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    // MARK: running

    private func execute(_ executor: RunExecutor, observer: @Sendable (RunEvent) -> Void) async {
        let runId = executor.request.runId
        let key = executor.request.sessionKey
        let ephemeral = !executor.persists
        let startedAt = RunExecutor.nowMs()
        state.withLock { $0.runs[runId]?.startedAt = startedAt }
        let progress = RunExecutor.Progress()
        var outcome = RunOutcome(
            runId: runId, sessionKey: key.raw, agentId: key.agentId, status: .ok, text: "", clientToolCalls: [], usage: .zero,
            finishReason: nil, model: nil, errorKind: nil, errorMessage: nil, errorDetail: nil, startedAt: startedAt, endedAt: startedAt
        )
        if Task.isCancelled {
            outcome.status = timedOut(runId) ? .timeout : .aborted
        } else {
            observer(.started(RunInfo(runId: runId, sessionKey: key.raw, agentId: key.agentId, startedAt: startedAt)))
            do {
                let entry: SessionEntry?
                if executor.persists {
                    entry = try await sessions.resolve(key, nowMs: startedAt)
                } else {
                    entry = nil
                }
                try await executor.run(progress: progress, sessionEntry: entry)
            } catch {
                if Task.isCancelled || error is CancellationError {
                    outcome.status = timedOut(runId) ? .timeout : .aborted
                    if outcome.status == .timeout {
                        outcome.errorKind = .timeout
                        outcome.errorMessage = "the run did not finish within its timeout"
                    }
                } else {
                    outcome.status = .error
                    if let modelError = error as? ModelError {
                        outcome.errorKind = modelError.kind
                        outcome.errorMessage = modelError.message
                        outcome.errorDetail = modelError
                    } else if let agentError = error as? AgentError {
                        outcome.errorKind = .unknown
                        outcome.errorMessage = agentError.message
                    } else {
                        outcome.errorKind = .unknown
                        outcome.errorMessage = "\(error)"
                    }
                }
                await executor.recordInterrupted(
                    progress: progress, stopReason: outcome.status == .error ? "error" : "aborted", error: outcome.errorMessage
                )
            }
        }
        outcome.text = progress.text
        outcome.clientToolCalls = progress.clientToolCalls
        outcome.usage = progress.usage
        outcome.finishReason = progress.finishReason
        outcome.model = progress.model
        outcome.endedAt = RunExecutor.nowMs()
        if outcome.status != .ok {
            logger.notice(
                "run ended", metadata: ["runId": "\(runId)", "status": "\(outcome.status.rawValue)", "error": "\(outcome.errorMessage ?? "")"]
            )
        }
        // Agent ids are bounded: configured agents and connected mesh agents (`submit` refuses others).
        Counter(
            label: Self.deliberationsTotal, dimensions: [("agent_id", key.agentId), ("status", outcome.status.rawValue)],
            factory: metrics
        ).increment()
        observer(.finished(outcome))
        let finished = outcome
        let waiters = state.withLock { state -> [CheckedContinuation<RunOutcome?, Never>] in
            guard var record = state.runs[runId] else { return [] }
            if let own = record.task, state.laneTails[key.raw] == own {
                // Nothing queued behind this run: the lane is free.
                state.laneTails[key.raw] = nil
            }
            let waiters = Array(record.waiters.values)
            if ephemeral {
                // Nobody can look a stateless run up again: nothing to remember.
                state.runs[runId] = nil
                return waiters
            }
            record.outcome = finished
            record.task = nil
            record.waiters = [:]
            state.runs[runId] = record
            state.finishedOrder.append((finished.endedAt, runId))
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: finished) }
    }

    private func timedOut(_ runId: String) -> Bool {
        state.withLock { $0.runs[runId]?.timedOut ?? false }
    }

    private func scheduleTimeout(runId: String, afterMs: Int) {
        Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(afterMs))
            self?.state.withLock { state in
                guard var record = state.runs[runId], record.outcome == nil else { return }
                record.timedOut = true
                record.task?.cancel()
                state.runs[runId] = record
            }
        }
    }

    /// Forgets finished runs past their retention, and the oldest beyond the cap: O(1) per
    /// forgotten run (they are dropped from the front of the finish order).
    private func prune(_ state: inout State, limits: RunLimits, nowMs: Int) {
        while let oldest = state.finishedOrder.first,
            nowMs - oldest.endedAt >= limits.retentionMs || state.finishedOrder.count > limits.maxRetainedRuns
        {
            state.finishedOrder.removeFirst()
            state.runs[oldest.runId] = nil
        }
    }
}
