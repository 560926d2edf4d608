import AsyncHTTPClient
import CoreMetrics
import Logging
import NIOCore
import Synchronization

/// How often and how patiently one model is retried before the router moves on.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts per model, the first included.
    public var maxAttempts: Int
    public var initialBackoffMs: Int
    public var maxBackoffMs: Int
    /// Relative spread of each delay (0.25 = ±25%), so clients that failed together do not
    /// retry together.
    public var jitter: Double

    public init(maxAttempts: Int = 3, initialBackoffMs: Int = 200, maxBackoffMs: Int = 5_000, jitter: Double = 0.25) {
        self.maxAttempts = maxAttempts
        self.initialBackoffMs = initialBackoffMs
        self.maxBackoffMs = maxBackoffMs
        self.jitter = jitter
    }

    /// The wait after failed attempt `attempt` (1-based): exponential with jitter, or what the
    /// upstream's `Retry-After` asked when that is longer, never more than `maxBackoffMs`.
    public func delayMs(afterAttempt attempt: Int, retryAfterMs: Int? = nil) -> Int {
        let cap = Double(max(0, maxBackoffMs))
        let exponent = min(max(attempt - 1, 0), 30)
        let base = min(Double(max(0, initialBackoffMs)) * Double(1 << exponent), cap)
        let spread = min(max(jitter, 0), 1)
        var delay = base * (1 + Double.random(in: -spread...spread))
        if let retryAfterMs { delay = max(delay, Double(retryAfterMs)) }
        return Int(min(max(delay, 0), cap).rounded())
    }
}

/// The router's clocks. The connect timeout belongs to the `HTTPClient` (see
/// `httpClientTimeout`); the other two are enforced per call by the router.
public struct ModelTimeouts: Sendable, Hashable {
    public var connectMs: Int
    /// No stream event within this long after an attempt starts: that attempt failed
    /// (`.timeout`, retryable) and its request is cancelled.
    public var firstTokenMs: Int
    /// Bounds a whole routed call: every attempt, backoff and fallback.
    public var totalMs: Int

    public init(connectMs: Int = 10_000, firstTokenMs: Int = 60_000, totalMs: Int = 600_000) {
        self.connectMs = connectMs
        self.firstTokenMs = firstTokenMs
        self.totalMs = totalMs
    }

    /// The `HTTPClient` timeout configuration matching `connectMs`, for whoever creates the client.
    public var httpClientTimeout: HTTPClient.Configuration.Timeout {
        HTTPClient.Configuration.Timeout(connect: .milliseconds(Int64(connectMs)))
    }
}

/// What a routed chat yields: progress of the routing, and the chosen model's stream.
public enum RoutedChatEvent: Sendable, Hashable {
    /// An attempt on this model begins (attempt is 1-based, per model).
    case started(ModelRef, attempt: Int)
    case retrying(ModelRef, error: ModelError, delayMs: Int)
    case fallingBack(from: ModelRef, to: ModelRef, error: ModelError)
    case chunk(ChatStreamEvent)
}

/// Resilience across models: retries with backoff on retryable errors, a first-token timeout,
/// a total timeout, and fallback to the next candidate — all before the first chunk reaches
/// the consumer, because after that a retry would repeat text the client already has.
public final class ModelRouter: Sendable {
    public let retry: RetryPolicy
    public let timeouts: ModelTimeouts
    private let configs: [ProviderConfig]
    private let providers: [String: any ModelProvider]
    private let logger: Logger
    private let metrics: ModelMetrics
    /// First-token and total deadlines of attempts. The providers' drain bounds (2 s) have a
    /// scheduler of their own: mixed with these (60 s and more) each would come before the
    /// deadline being slept towards and restart the sleeper.
    private let deadlines: DeadlineScheduler

    /// The connect timeout is the `HTTPClient`'s own configuration, and the caller creates the
    /// client: build it with `timeouts.httpClientTimeout` (or an equivalent) for `connectMs` to
    /// apply. A provider id configured twice keeps its first definition. `metrics` receives the
    /// `clawgate_llm_*` series (see `ModelMetrics`); by default nothing is recorded.
    public init(
        providers: [ProviderConfig], httpClient: ModelHTTPClients, retry: RetryPolicy = .init(), timeouts: ModelTimeouts = .init(),
        logger: Logger, metrics: any MetricsFactory = NOOPMetricsHandler.instance
    ) {
        var byId: [String: any ModelProvider] = [:]
        var configs: [ProviderConfig] = []
        self.deadlines = DeadlineScheduler()
        let drainBounds = DeadlineScheduler()
        for config in providers where byId[config.id] == nil {
            byId[config.id] = ProviderFactory.make(config, httpClient: httpClient, logger: logger, deadlines: drainBounds)
            configs.append(config)
        }
        self.providers = byId
        self.configs = configs
        self.retry = retry
        self.timeouts = timeouts
        self.logger = logger
        self.metrics = ModelMetrics(
            factory: metrics, models: configs.flatMap { config in config.models.map { ModelRef(provider: config.id, model: $0.id) } }
        )
    }

    /// With one shared client.
    public convenience init(
        providers: [ProviderConfig], httpClient: HTTPClient, retry: RetryPolicy = .init(), timeouts: ModelTimeouts = .init(),
        logger: Logger, metrics: any MetricsFactory = NOOPMetricsHandler.instance
    ) {
        self.init(
            providers: providers, httpClient: ModelHTTPClients(httpClient), retry: retry, timeouts: timeouts, logger: logger,
            metrics: metrics
        )
    }

    public func provider(_ id: String) -> (any ModelProvider)? {
        providers[id]
    }

    /// Every configured model, in configuration order.
    public var catalog: [(ref: ModelRef, definition: ModelDefinition)] {
        configs.flatMap { config in
            config.models.map { (ref: ModelRef(provider: config.id, model: $0.id), definition: $0) }
        }
    }

    // MARK: Chat

    /// Tries `candidates` in order, each with retries (exponential backoff with jitter, honouring
    /// `Retry-After` up to `maxBackoffMs`) on retryable errors, then the next candidate — after any
    /// error, retryable or not, since another provider may not share it (a bad key, a smaller
    /// context window, a refusing content filter). Retries
    /// and fallback only happen before the first chunk was yielded; after that an error ends the
    /// stream. No stream event within `firstTokenMs` cancels that attempt's request and counts as
    /// a retryable `.timeout`; `totalMs` bounds the whole call. Throws the last `ModelError` when
    /// every candidate failed.
    ///
    /// When the consumer stops iterating or its task is cancelled, the routing task is cancelled
    /// and with it the upstream HTTP request.
    public func streamChat(candidates: [ModelRef], request: ChatRequest) -> AsyncThrowingStream<RoutedChatEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: RoutedChatEvent.self)
        let task = Task(executorPreference: TaskAffinity.executor) {
            do {
                try await self.route(candidates: candidates, request: request, continuation: continuation)
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Collects `streamChat` into one answer and says which model gave it.
    public func complete(candidates: [ModelRef], request: ChatRequest) async throws -> (ChatCompletion, servedBy: ModelRef) {
        var servedBy: ModelRef?
        var text = ""
        var toolCalls: [ToolCall] = []
        var usage: TokenUsage?
        var finish: FinishReason?
        for try await event in streamChat(candidates: candidates, request: request) {
            switch event {
            case .started(let ref, _):
                servedBy = ref
            case .retrying, .fallingBack:
                break
            case .chunk(.textDelta(let delta)):
                text += delta
            case .chunk(.toolCall(let call)):
                toolCalls.append(call)
            case .chunk(.usage(let reported)):
                usage = reported
            case .chunk(.finish(let reason)):
                finish = reason
            }
        }
        guard let servedBy, let finish else {
            let ref = servedBy ?? candidates.first
            throw ModelError(
                kind: .unknown, message: "the stream ended without an answer", provider: ref?.provider ?? "",
                model: ref?.model ?? "", retryable: true)
        }
        return (ChatCompletion(text: text, toolCalls: toolCalls, usage: usage, finishReason: finish), servedBy)
    }

    /// Why one model's attempts stopped.
    private enum ModelOutcome: Error {
        /// Content already reached the consumer: the error ends the stream.
        case committed(ModelError)
        /// Every allowed attempt failed (or the error was not retryable): try the next model.
        case exhausted(ModelError)
        /// The total timeout ran out: nothing more may be tried.
        case outOfTime(ModelError)
    }

    private func route(
        candidates: [ModelRef], request: ChatRequest, continuation: AsyncThrowingStream<RoutedChatEvent, any Error>.Continuation
    ) async throws {
        let deadline = ContinuousClock.now + .milliseconds(timeouts.totalMs)
        var lastError: ModelError?
        for (position, ref) in candidates.enumerated() {
            do {
                try await attempts(on: ref, request: request, deadline: deadline, continuation: continuation)
                return
            } catch let outcome as ModelOutcome {
                switch outcome {
                case .committed(let error), .outOfTime(let error):
                    throw error
                case .exhausted(let error):
                    lastError = error
                }
            }
            if position + 1 < candidates.count, let lastError {
                let next = candidates[position + 1]
                logger.notice(
                    "model fallback",
                    metadata: [
                        "provider": "\(ref.provider)", "model": "\(ref.model)", "next": "\(next)",
                        "kind": "\(lastError.kind.rawValue)",
                    ])
                metrics.series(ref).fallbacks.increment()
                continuation.yield(.fallingBack(from: ref, to: next, error: lastError))
            }
        }
        throw lastError
            ?? ModelError(kind: .unknown, message: "no model candidates", provider: "", model: "", retryable: false)
    }

    /// All attempts on one model; returns when one of them delivered a whole answer.
    private func attempts(
        on ref: ModelRef, request: ChatRequest, deadline: ContinuousClock.Instant,
        continuation: AsyncThrowingStream<RoutedChatEvent, any Error>.Continuation
    ) async throws {
        guard let provider = providers[ref.provider] else {
            throw ModelOutcome.exhausted(
                ModelError(
                    kind: .unknown, message: "unknown provider \(ref.provider)", provider: ref.provider, model: ref.model,
                    retryable: false))
        }
        var routed = request
        routed.model = ref.model
        let maxAttempts = max(1, retry.maxAttempts)
        for attempt in 1...maxAttempts {
            if ContinuousClock.now >= deadline { throw ModelOutcome.outOfTime(totalTimeout(ref)) }
            logger.debug("model attempt", metadata: ["provider": "\(ref.provider)", "model": "\(ref.model)", "attempt": "\(attempt)"])
            continuation.yield(.started(ref, attempt: attempt))

            let error: ModelError
            do {
                try await runAttempt(provider, ref: ref, request: routed, deadline: deadline, continuation: continuation)
                return
            } catch let failure as AttemptFailure {
                switch failure {
                case .beforeContent(let failed): error = failed
                case .afterContent(let failed): throw ModelOutcome.committed(failed)
                case .totalTimeout: throw ModelOutcome.outOfTime(totalTimeout(ref))
                }
            }
            logger.notice(
                "model attempt failed",
                metadata: [
                    "provider": "\(ref.provider)", "model": "\(ref.model)", "attempt": "\(attempt)",
                    "kind": "\(error.kind.rawValue)", "status": "\(error.httpStatus.map(String.init) ?? "-")",
                    "retryable": "\(error.retryable)",
                ])
            guard error.retryable, attempt < maxAttempts else { throw ModelOutcome.exhausted(error) }
            let delay = retry.delayMs(afterAttempt: attempt, retryAfterMs: error.retryAfterMs)
            if ContinuousClock.now + .milliseconds(delay) >= deadline { throw ModelOutcome.outOfTime(totalTimeout(ref)) }
            metrics.series(ref).retries.increment()
            continuation.yield(.retrying(ref, error: error, delayMs: delay))
            try await Task.sleep(for: .milliseconds(delay))
        }
        // The loop returns or throws on its last attempt.
        throw ModelOutcome.exhausted(totalTimeout(ref))
    }

    private func totalTimeout(_ ref: ModelRef) -> ModelError {
        ModelError(
            kind: .timeout, message: "no complete answer within \(timeouts.totalMs) ms", provider: ref.provider,
            model: ref.model, retryable: true)
    }

    private enum AttemptFailure: Error {
        case beforeContent(ModelError)
        case afterContent(ModelError)
        case totalTimeout
    }

    private enum TimerFired: Error {
        case firstToken
        case total
    }

    /// Whether the attempt's stream has reached the consumer, or its first-token timer fired
    /// first. Decided under one lock, so a chunk is never yielded by an attempt that timed out.
    private final class AttemptGate: Sendable {
        private struct State {
            var committed = false
            var timedOut = false
        }
        private let state = Mutex(State())

        /// Called before yielding a chunk: `false` when the timer already fired.
        func commit() -> Bool {
            state.withLock { state in
                guard !state.timedOut else { return false }
                state.committed = true
                return true
            }
        }

        /// Called by the first-token timer: `true` (timed out) when nothing was yielded yet.
        func timeOut() -> Bool {
            state.withLock { state in
                if !state.committed { state.timedOut = true }
                return state.timedOut
            }
        }

        var committed: Bool { state.withLock { $0.committed } }
    }

    /// One attempt: the provider's stream, consumed in a task of its own that the first-token and
    /// total deadlines cancel (and with it the HTTP request); a deadline that fires first is the
    /// attempt's error.
    private func runAttempt(
        _ provider: any ModelProvider, ref: ModelRef, request: ChatRequest, deadline: ContinuousClock.Instant,
        continuation: AsyncThrowingStream<RoutedChatEvent, any Error>.Continuation
    ) async throws {
        let gate = AttemptGate()
        let series = metrics.series(ref)
        let started = ContinuousClock.now
        let firstTokenDeadline = min(started + .milliseconds(timeouts.firstTokenMs), deadline)
        // Deadlines rather than a sleeping timer task racing the stream: that cost a Dispatch
        // timer per request (see `DeadlineScheduler`).
        let fired = Mutex<TimerFired?>(nil)
        try Task.checkCancellation()
        let attempt = Task(executorPreference: TaskAffinity.executor) {
            let stream = try await provider.streamChat(request)
            var finished = false
            var first = true
            for try await event in stream {
                guard gate.commit() else { throw CancellationError() }
                if first {
                    first = false
                    series.firstToken.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
                }
                switch event {
                case .finish: finished = true
                case .usage(let usage): series.tokens(usage)
                case .textDelta, .toolCall: break
                }
                if case .terminated = continuation.yield(.chunk(event)) { throw CancellationError() }
            }
            try Task.checkCancellation()
            guard finished else { throw ModelError.truncated(provider: ref.provider, model: ref.model) }
        }
        let firstTokenTimer = deadlines.schedule(at: firstTokenDeadline) {
            // Only while nothing was yielded; after that only the total deadline applies.
            guard gate.timeOut() else { return }
            fired.withLock { $0 = $0 ?? (firstTokenDeadline < deadline ? .firstToken : .total) }
            attempt.cancel()
        }
        let totalTimer = deadlines.schedule(at: deadline) {
            fired.withLock { $0 = $0 ?? .total }
            attempt.cancel()
        }
        do {
            let ended: Result<Void, any Error>
            do {
                try await withTaskCancellationHandler {
                    try await attempt.value
                } onCancel: {
                    attempt.cancel()
                }
                ended = .success(())
            } catch {
                ended = .failure(error)
            }
            firstTokenTimer.cancel()
            totalTimer.cancel()
            // A deadline that stopped the attempt is the reason, not the cancellation it caused.
            if case .failure(let error) = ended { throw fired.withLock({ $0 }) ?? error }
            series.request(.chat, outcome: ModelMetrics.outcome(of: nil), duration: ContinuousClock.now - started)
        } catch {
            if Task.isCancelled {
                series.request(.chat, outcome: "canceled", duration: ContinuousClock.now - started)
                throw CancellationError()
            }
            let committed = gate.committed
            let failure: ModelError
            switch error {
            case TimerFired.total:
                series.request(.chat, outcome: ModelErrorKind.timeout.rawValue, duration: ContinuousClock.now - started)
                throw AttemptFailure.totalTimeout
            case TimerFired.firstToken:
                failure = ModelError(
                    kind: .timeout, message: "no response within \(timeouts.firstTokenMs) ms", provider: ref.provider,
                    model: ref.model, retryable: true)
            case let error as ModelError:
                failure = error
            default:
                failure = ModelError(
                    kind: .unknown, message: ProviderErrors.truncate("\(error)"), provider: ref.provider, model: ref.model,
                    retryable: true)
            }
            series.request(.chat, outcome: ModelMetrics.outcome(of: failure), duration: ContinuousClock.now - started)
            throw committed ? AttemptFailure.afterContent(failure) : AttemptFailure.beforeContent(failure)
        }
    }

    // MARK: Embeddings

    /// Embeds `input` with one model, retrying retryable errors as chats do, within `totalMs`.
    public func embed(model: ModelRef, input: [String], dimensions: Int?) async throws -> EmbeddingResult {
        guard let provider = providers[model.provider] else {
            throw ModelError(
                kind: .unknown, message: "unknown provider \(model.provider)", provider: model.provider, model: model.model,
                retryable: false)
        }
        let request = EmbeddingRequest(model: model.model, input: input, dimensions: dimensions)
        let deadline = ContinuousClock.now + .milliseconds(timeouts.totalMs)
        let maxAttempts = max(1, retry.maxAttempts)
        let series = metrics.series(model)
        var attempt = 1
        while true {
            let started = ContinuousClock.now
            do {
                let result = try await withThrowingTaskGroup(of: EmbeddingResult?.self) { group in
                    group.addTask { try await provider.embed(request) }
                    group.addTask {
                        try await Task.sleep(until: deadline)
                        return nil
                    }
                    defer { group.cancelAll() }
                    guard let first = try await group.next(), let result = first else { throw TimerFired.total }
                    return result
                }
                series.tokens(result.usage)
                series.request(.embedding, outcome: ModelMetrics.outcome(of: nil), duration: ContinuousClock.now - started)
                return result
            } catch TimerFired.total {
                series.request(.embedding, outcome: ModelErrorKind.timeout.rawValue, duration: ContinuousClock.now - started)
                throw totalTimeout(model)
            } catch let error as ModelError {
                series.request(.embedding, outcome: ModelMetrics.outcome(of: error), duration: ContinuousClock.now - started)
                logger.notice(
                    "embedding attempt failed",
                    metadata: [
                        "provider": "\(model.provider)", "model": "\(model.model)", "attempt": "\(attempt)",
                        "kind": "\(error.kind.rawValue)", "status": "\(error.httpStatus.map(String.init) ?? "-")",
                    ])
                guard error.retryable, attempt < maxAttempts else { throw error }
                let delay = retry.delayMs(afterAttempt: attempt, retryAfterMs: error.retryAfterMs)
                if ContinuousClock.now + .milliseconds(delay) >= deadline { throw totalTimeout(model) }
                series.retries.increment()
                try await Task.sleep(for: .milliseconds(delay))
                attempt += 1
            }
        }
    }
}
