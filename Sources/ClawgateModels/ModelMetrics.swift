import CoreMetrics

/// The LLM series, by provider and model: requests (per upstream attempt) with their outcome,
/// tokens, request duration, time to first token, retries and fallbacks.
///
/// Recorded through a swift-metrics `MetricsFactory` handed in by whoever owns the router (the
/// gateway passes one backed by its own Prometheus registry); nothing here knows the backend.
/// Handles of configured models are created once; a model outside the configuration (which
/// only a caller passing its own `ModelRef` produces) is recorded as model `other`, so label
/// values stay a bounded set.
public final class ModelMetrics: Sendable {
    public static let requestsTotal = "clawgate_llm_requests_total"
    public static let tokensTotal = "clawgate_llm_tokens_total"
    public static let requestDuration = "clawgate_llm_request_duration_seconds"
    public static let timeToFirstToken = "clawgate_llm_time_to_first_token_seconds"
    public static let retriesTotal = "clawgate_llm_retries_total"
    public static let fallbacksTotal = "clawgate_llm_fallbacks_total"

    /// What an upstream request was for.
    public enum Operation: String, Sendable, CaseIterable {
        case chat
        case embedding
    }

    /// How one upstream request ended: `ok`, `canceled` (the caller went away), or the error kind.
    static func outcome(of error: ModelError?) -> String {
        error?.kind.rawValue ?? "ok"
    }

    /// The handles of one provider/model pair.
    final class Series: Sendable {
        let provider: String
        let model: String
        let factory: any MetricsFactory
        let inputTokens: Counter
        let outputTokens: Counter
        let chatDuration: Timer
        let embeddingDuration: Timer
        let firstToken: Timer
        let retries: Counter
        let fallbacks: Counter

        init(provider: String, model: String, factory: any MetricsFactory) {
            self.provider = provider
            self.model = model
            self.factory = factory
            let base = [("provider", provider), ("model", model)]
            inputTokens = Counter(label: ModelMetrics.tokensTotal, dimensions: base + [("direction", "input")], factory: factory)
            outputTokens = Counter(label: ModelMetrics.tokensTotal, dimensions: base + [("direction", "output")], factory: factory)
            chatDuration = Timer(label: ModelMetrics.requestDuration, dimensions: base + [("operation", "chat")], factory: factory)
            embeddingDuration = Timer(
                label: ModelMetrics.requestDuration, dimensions: base + [("operation", "embedding")], factory: factory
            )
            firstToken = Timer(label: ModelMetrics.timeToFirstToken, dimensions: base, factory: factory)
            retries = Counter(label: ModelMetrics.retriesTotal, dimensions: base, factory: factory)
            fallbacks = Counter(label: ModelMetrics.fallbacksTotal, dimensions: base, factory: factory)
        }

        func tokens(_ usage: TokenUsage) {
            if usage.input > 0 { inputTokens.increment(by: usage.input) }
            if usage.output > 0 { outputTokens.increment(by: usage.output) }
        }

        /// One finished upstream request. The outcome counter is looked up per request (the
        /// factory's registry hands back the existing series): a request costs far more.
        func request(_ operation: Operation, outcome: String, duration: Duration) {
            Counter(
                label: ModelMetrics.requestsTotal,
                dimensions: [("provider", provider), ("model", model), ("operation", operation.rawValue), ("outcome", outcome)],
                factory: factory
            ).increment()
            let timer = operation == .chat ? chatDuration : embeddingDuration
            timer.recordNanoseconds(duration.nanoseconds)
        }
    }

    private let factory: any MetricsFactory
    private let configured: [ModelRef: Series]

    public init(factory: any MetricsFactory, models: [ModelRef]) {
        self.factory = factory
        var configured: [ModelRef: Series] = [:]
        for ref in models where configured[ref] == nil {
            configured[ref] = Series(provider: ref.provider, model: ref.model, factory: factory)
        }
        self.configured = configured
    }

    func series(_ ref: ModelRef) -> Series {
        configured[ref] ?? Series(provider: ref.provider, model: "other", factory: factory)
    }
}

extension Duration {
    /// Whole nanoseconds (saturating), for swift-metrics timers.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}
