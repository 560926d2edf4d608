import Hummingbird
import Logging
// Provided by Hummingbird (its `Application` is a `Service`): the only way to stop it
// gracefully, without the accept loop logging a cancellation error on every shutdown.
import ServiceLifecycle

/// A local HTTP server speaking the OpenAI (Chat Completions, Responses, Embeddings, Models) and
/// Anthropic Messages wire formats with scripted, deterministic behaviour.
///
/// It is the upstream the provider and gateway test suites and the proxy benchmark talk to: a
/// real socket, so timeouts, aborts and streaming are exercised exactly as against a provider.
public final class UpstreamServer: Sendable {
    private let state: UpstreamState
    private let group: ServiceGroup
    private let task: Task<Void, any Error>
    /// The bound port (the ephemeral one when started with port 0).
    public let port: Int
    private let host: String

    private init(state: UpstreamState, group: ServiceGroup, task: Task<Void, any Error>, host: String, port: Int) {
        self.state = state
        self.group = group
        self.task = task
        self.host = host
        self.port = port
    }

    /// How long in-flight answers (a slow stream, say) get to finish at shutdown before they are cancelled.
    static let gracePeriod = Duration.seconds(3)

    /// Starts on 127.0.0.1 with an ephemeral port, runs `body`, always shuts down after (also on throw).
    /// The result is discardable: single-expression test bodies often return something incidental.
    @discardableResult
    public static func with<T: Sendable>(
        apiKey: String? = nil, logger: Logger? = nil, _ body: @Sendable (UpstreamServer) async throws -> T
    ) async throws -> T {
        let server = try await start(apiKey: apiKey, logger: logger)
        do {
            let result = try await body(server)
            await server.shutdown()
            return result
        } catch {
            await server.shutdown()
            throw error
        }
    }

    /// Same, for long-running use (benchmark): start now, call `shutdown()` later.
    /// `recordsRequests: false` keeps only the count (`requestCount`), not the request log.
    public static func start(
        apiKey: String? = nil, host: String = "127.0.0.1", port: Int = 0, logger: Logger? = nil, recordsRequests: Bool = true
    ) async throws -> UpstreamServer {
        let state = UpstreamState(apiKey: apiKey, recordsRequests: recordsRequests)
        let logger = logger ?? Self.quietLogger()
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(1))
        let application = Application(
            responder: UpstreamResponder(state: state),
            server: .http1(),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil, backlog: 1024, reuseAddress: true),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? port)
                portContinuation.finish()
            },
            logger: logger
        )
        var configuration = ServiceGroupConfiguration(services: [application], logger: logger)
        configuration.maximumGracefulShutdownDuration = gracePeriod
        let group = ServiceGroup(configuration: configuration)
        let task = Task {
            defer { portContinuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next() else {
            // The server stopped before listening (bind failure) or the caller was cancelled.
            task.cancel()
            try await task.value
            throw CancellationError()
        }
        return UpstreamServer(state: state, group: group, task: task, host: host, port: bound)
    }

    /// Stops listening, ends hanging requests (they count as cancelled), lets other in-flight
    /// answers finish (at most `gracePeriod`, then they are cancelled) and waits until the server
    /// has stopped. Safe to call more than once.
    public func shutdown() async {
        state.beginShutdown()
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    /// "http://127.0.0.1:PORT/v1" — what a provider config's baseUrl points at (OpenAI style).
    public var openAIBaseURL: String { "http://\(urlHost):\(port)/v1" }

    /// "http://127.0.0.1:PORT" — Anthropic style base URL (client appends /v1/messages).
    public var anthropicBaseURL: String { "http://\(urlHost):\(port)" }

    /// Queues behaviours for requests naming `model`; each request pops the next step; when the
    /// queue is empty the default is `.echo`. Scripted models are also listed by `/v1/models`.
    public func script(model: String, _ steps: [UpstreamStep]) {
        state.script(model: model, steps)
    }

    /// Every request received, in order (including rejected ones); empty when started with
    /// `recordsRequests: false`.
    public var requests: [RecordedRequest] { state.requests }

    /// How many requests arrived (recorded or not).
    public var requestCount: Int { state.requestCount }

    public func requests(path: String) -> [RecordedRequest] {
        state.requests.filter { $0.path == path }
    }

    /// Streams/requests whose client disconnected (or cancelled) before the server finished
    /// answering — lets tests prove that an abort really stopped the upstream request.
    public var cancelledCount: Int { state.cancelledCount }

    /// Requests currently being answered (e.g. hanging).
    public var inFlightCount: Int { state.inFlightCount }

    /// A URL host: wildcard binds are reached over loopback; IPv6 literals get brackets.
    private var urlHost: String {
        switch host {
        case "0.0.0.0", "": return "127.0.0.1"
        case "::": return "[::1]"
        default: return host.contains(":") ? "[\(host)]" : host
        }
    }

    /// Hummingbird logs every start at info; tests and the benchmark only want problems.
    private static func quietLogger() -> Logger {
        var logger = Logger(label: "clawgate.upstream")
        logger.logLevel = .warning
        return logger
    }
}
