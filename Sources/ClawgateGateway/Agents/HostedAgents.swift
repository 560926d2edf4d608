import AsyncHTTPClient
import ClawgateAgents
import CoreMetrics
import ClawgateModels
import ClawgateProtocol
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The gateway's hosted agents: the HTTP clients the providers share, the model router, the
/// session store and the runtime that runs agent turns. Owned by `GatewayCore`.
final class HostedAgents: Sendable {
    /// Swapped with the catalog and model router on a config reload.
    private let currentSettings: Mutex<AgentsSettings>
    var settings: AgentsSettings { currentSettings.withLock { $0 } }
    /// Shared by every provider, one per event loop (see `ModelHTTPClients`); their connect
    /// timeout (`models.timeouts.connectMs`) is fixed when the process starts, because requests
    /// in flight keep using it.
    let httpClients: ModelHTTPClients
    let runtime: AgentRuntime
    let tools: ToolRegistry
    private let logger: Logger
    /// The gateway's registry: every model router, including those built on reload, reports to it.
    private let metrics: any MetricsFactory

    var router: ModelRouter { runtime.setup.router }

    /// - metrics: receives the LLM and agent-run series (the gateway's registry).
    /// - isRemote: whether an agent id is a connected mesh agent (served by `remoteTurn`).
    init(
        settings: AgentsSettings, stateDir: String, tools: ToolRegistry, logger: Logger, metrics: any MetricsFactory,
        isRemote: @escaping @Sendable (String) -> Bool, remoteTurn: @escaping @Sendable (RemoteTurn) async throws -> String
    ) {
        self.currentSettings = Mutex(settings)
        self.logger = logger
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .milliseconds(Int64(settings.timeouts.connectMs))
        // 64 connections per upstream host in all, shared out between the per-loop clients.
        let loops = Array(MultiThreadedEventLoopGroup.singleton.makeIterator()).count
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(8, 64 / max(1, loops))
        configuration.decompression = .enabled(limit: .ratio(20))
        // No distributed tracing is bootstrapped; without this AsyncHTTPClient still builds a
        // (no-op) span and its attributes for every model request (~3 % of a proxied chat's CPU).
        configuration.tracing.tracer = nil
        // The group the HTTP server runs on (Hummingbird's default), so each connection's loop
        // has a client of its own.
        self.httpClients = ModelHTTPClients(perLoopOf: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        self.metrics = metrics
        let router = ModelRouter(
            providers: settings.providers, httpClient: httpClients, retry: settings.retry, timeouts: settings.timeouts, logger: logger,
            metrics: metrics
        )
        self.tools = tools
        self.runtime = AgentRuntime(
            setup: AgentRuntime.Setup(catalog: settings.catalog, router: router, tools: tools, isRemote: isRemote, remoteTurn: remoteTurn),
            sessions: SessionStore(stateDir: stateDir), logger: logger, metrics: metrics
        )
    }

    var catalog: AgentCatalog { runtime.catalog }

    /// Config hot reload: new agents, providers and models for runs that start from now on
    /// (runs already going finish with what they started with).
    func replace(settings: AgentsSettings) {
        var setup = runtime.setup
        setup.catalog = settings.catalog
        setup.router = ModelRouter(
            providers: settings.providers, httpClient: httpClients, retry: settings.retry, timeouts: settings.timeouts, logger: logger,
            metrics: metrics
        )
        currentSettings.withLock { $0 = settings }
        runtime.replace(setup: setup)
    }

    /// A configured agent, or a connected remote agent.
    func agentExists(_ id: String) -> Bool {
        catalog.agent(id) != nil || runtime.setup.isRemote(id)
    }
    var sessions: SessionStore { runtime.sessions }

    private let stopped = Atomic<Bool>(false)

    /// Stops every run, then the HTTP client; once (the final stop of the listeners and the
    /// end of the server both call it).
    func shutdown() async {
        guard !stopped.exchange(true, ordering: .sequentiallyConsistent) else { return }
        await runtime.shutdown()
        do {
            try await httpClients.shutdown()
        } catch {
            logger.debug("http client shutdown", metadata: ["error": "\(error)"])
        }
    }

    func sessionKey(_ text: String) throws -> SessionKey {
        do {
            return try SessionKey(resolving: text, catalog: catalog, isRemote: runtime.setup.isRemote)
        } catch {
            throw MethodError.invalidRequest(error.message)
        }
    }

    /// Every configured model, for `models.list` and `/v1/models`.
    var modelRows: [(ref: ModelRef, definition: ModelDefinition)] { router.catalog }
}

extension AgentError {
    /// The RPC form: unknown things and bad input are `INVALID_REQUEST`, the rest `UNAVAILABLE`.
    var methodError: MethodError {
        switch kind {
        case .invalidInput, .notFound, .conflict: MethodError.invalidRequest(message)
        case .unavailable: MethodError.unavailable(message)
        }
    }
}
