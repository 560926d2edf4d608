import Prometheus
import Synchronization

/// How a gateway RPC request ended, as counted in `clawgate_rpc_requests_total`.
enum RPCOutcome: String, Sendable, CaseIterable {
    /// Answered with a result (or accepted, for methods that answer later by themselves).
    case ok
    /// Refused with an error: bad params, unknown method or thing, a domain refusal.
    case error
    /// The connection lacks the scope the method needs.
    case denied
    /// The method failed unexpectedly (answered `UNAVAILABLE ... failed`).
    case internalError = "internal_error"
}

/// Per-method RPC series. Handles of a method are created on its first request and reused:
/// the request path pays one uncontended lock and a dictionary lookup, no registry work.
final class RPCMetrics: Sendable {
    /// The handles of one method.
    final class MethodSeries: Sendable {
        let outcomes: [RPCOutcome: Counter]
        let duration: DurationHistogram

        init(method: String, registry: PrometheusCollectorRegistry) {
            var outcomes: [RPCOutcome: Counter] = [:]
            for outcome in RPCOutcome.allCases {
                outcomes[outcome] = registry.makeCounter(
                    descriptor: GatewayMetrics.descriptor(MetricCatalog.rpcRequests),
                    labels: [("method", method), ("outcome", outcome.rawValue)]
                )
            }
            self.outcomes = outcomes
            self.duration = registry.makeDurationHistogram(
                descriptor: GatewayMetrics.descriptor(MetricCatalog.rpcDuration), labels: [("method", method)],
                buckets: MetricCatalog.rpcBuckets
            )
        }

        func record(_ outcome: RPCOutcome, duration: Duration) {
            outcomes[outcome]?.increment()
            self.duration.record(duration)
        }
    }

    /// The method label of requests for methods the gateway does not have (client input must
    /// not become a label value).
    static let unknownMethod = "unknown"

    private let registry: PrometheusCollectorRegistry
    private let methods = Mutex<[String: MethodSeries]>([:])

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// The series of `method`, which must be a registered method name, `connect` or `unknown`.
    func series(_ method: String) -> MethodSeries {
        if let existing = methods.withLock({ $0[method] }) { return existing }
        // Created outside the lock (registry work); a concurrent first request may build the
        // same handles too, which the registry resolves to the same series.
        let created = MethodSeries(method: method, registry: registry)
        return methods.withLock { map in
            if let existing = map[method] { return existing }
            map[method] = created
            return created
        }
    }
}
