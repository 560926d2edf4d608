import ClawgateModels
import ClawgateSupport
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket

/// One accepted TCP connection of the gateway's port: HTTP/1.1 for the routes, or a WebSocket
/// upgrade — the gateway socket on any path that is not an HTTP route, a ClawLink push socket on
/// `/ws/{agent_id}`.
///
/// Modelled on Hummingbird's `HTTP1WebSocketUpgradeChannel`, with one difference that is the
/// point of this type: an upgraded socket is handed to a `WebSocketSocketHandler` in the channel
/// pipeline instead of an async handler running in the connection's task, so an idle socket holds
/// no task (see that handler). HTTP requests are served by Hummingbird as before.
struct GatewayChildChannel: ServerChildChannel, HTTPChannelHandler {
    enum UpgradeResult: Sendable {
        case websocket
        case notUpgraded(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case failedUpgrade(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
    }

    struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        let channel: any Channel
    }

    let responder: HTTPChannelHandler.Responder
    let core: GatewayCore
    let limits: GatewaySettings.Limits
    let httpPaths: Set<String>
    /// How long a kept-alive HTTP connection may stay idle.
    static let httpIdleTimeout = Duration.seconds(120)

    init(responder: @escaping HTTPChannelHandler.Responder, core: GatewayCore, limits: GatewaySettings.Limits, httpPaths: Set<String>) {
        self.responder = Self.redirectingLateUpgrades(responder)
        self.core = core
        self.limits = limits
        self.httpPaths = httpPaths
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let upgradeAttempted = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
            let upgrader = NIOTypedWebSocketServerUpgrader<UpgradeResult>(
                maxFrameSize: limits.maxPayloadBytes,
                shouldUpgrade: { channel, head in
                    upgradeAttempted.value = true
                    return shouldUpgrade(channel: channel, head: head)
                },
                upgradePipelineHandler: { channel, head in
                    channel.eventLoop.makeCompletedFuture {
                        let session = try makeSession(channel: channel, head: head)
                        let handler = WebSocketSocketHandler(
                            session: session, pingInterval: .milliseconds(Int64(limits.pingIntervalMs)), closeTimeout: .seconds(3)
                        )
                        try channel.pipeline.syncOperations.addHandler(handler)
                        return UpgradeResult.websocket
                    }
                }
            )
            let serverUpgrade = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandler(
                            HTTPConnectionStateHandler(idleTimeout: .init(Self.httpIdleTimeout), logger: logger)
                        )
                        let asyncChannel = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true)
                        )
                        return upgradeAttempted.value ? UpgradeResult.failedUpgrade(asyncChannel) : .notUpgraded(asyncChannel)
                    }
                }
            )
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration<UpgradeResult>(upgradeConfiguration: serverUpgrade)
            configuration.enablePipelining = false  // HTTP is pipelined by NIOAsyncChannel
            configuration.enableErrorHandling = false  // Hummingbird answers errors
            configuration.enableResponseHeaderValidation = false  // HTTPTypes validates fields
            // Hummingbird's header limits (80 KiB per field and in all, 1,000 fields).
            let headerLimits = HTTP1Channel.Configuration().httpDecoder
            configuration.decoderConfiguration.maxHeaderFieldSize = headerLimits.maxHeaderFieldSize
            configuration.decoderConfiguration.maxHeaderListSize = headerLimits.maxHeaderListSize
            configuration.decoderConfiguration.maxHeaderFieldCount = headerLimits.maxHeaderFieldCount
            let result = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            return Value(upgradeResult: result, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgradeResult.get() {
            case .websocket:
                // The socket lives on in its handler; this task is done.
                return
            case .notUpgraded(let http):
                // The connection's requests, and the tasks they start, run on its loop.
                let executor = EventLoopTaskExecutor(loop: value.channel.eventLoop)
                await withTaskExecutorPreference(executor) {
                    await TaskAffinity.$executor.withValue(executor) {
                        await handleHTTP(asyncChannel: http, logger: logger)
                    }
                }
            case .failedUpgrade(let http):
                await Self.refuseUpgrade(http, logger: logger)
            }
        } catch let error as ChannelError where error == .inputClosed {
            logger.trace("connection closed before a request")
        } catch {
            logger.debug("connection ended during the upgrade", metadata: ["error": "\(error)"])
        }
    }

    // MARK: upgrade decision

    /// Upgrade headers (none extra) when the socket may open, nil to answer over HTTP.
    private func shouldUpgrade(channel: any Channel, head: HTTPRequestHead) -> EventLoopFuture<HTTPHeaders?> {
        guard let request = try? HTTPRequest(head, secure: false, splitCookie: false) else {
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        if let agentId = ClawLinkUpgrade.agentId(path: request.path) {
            let core = self.core
            let promise = channel.eventLoop.makePromise(of: HTTPHeaders?.self)
            promise.completeWithTask {
                await ClawLinkUpgrade.allows(request, remote: channel.remoteAddress, agentId: agentId, gateway: core) ? HTTPHeaders() : nil
            }
            return promise.futureResult
        }
        // Every other path that is not an HTTP route is the gateway socket.
        if httpPaths.contains(request.path ?? "/") { return channel.eventLoop.makeSucceededFuture(nil) }
        return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
    }

    private func makeSession(channel: any Channel, head: HTTPRequestHead) throws -> any SocketSession {
        let request = try HTTPRequest(head, secure: false, splitCookie: false)
        if let agentId = ClawLinkUpgrade.agentId(path: request.path) {
            return ClawLinkSocketSession(gateway: core, agentId: agentId, channel: channel)
        }
        let upgrade = UpgradeRequest(remote: ClientAddress(channel.remoteAddress), headers: request.headerFields, authority: request.authority)
        return ConnectionSession(gateway: core, request: upgrade, channel: channel)
    }

    // MARK: HTTP

    /// A WebSocket upgrade after an HTTP request on the same connection cannot be taken over by
    /// NIO's upgrade handler (it only looks at the first request): redirect to the same path on a
    /// new connection, as Hummingbird does.
    private static func redirectingLateUpgrades(_ responder: @escaping HTTPChannelHandler.Responder) -> HTTPChannelHandler.Responder {
        struct LateUpgrade: Error {}
        return { request, writer, channel in
            guard request.headers[.upgrade]?.lowercased() == "websocket" else {
                try await responder(request, writer, channel)
                return
            }
            var path = request.uri.path
            if let query = request.uri.query { path += "?\(query)" }
            try await writer.writeResponse(HTTPResponse(status: .temporaryRedirect, headerFields: [.connection: "close", .location: path]))
            throw LateUpgrade()
        }
    }

    /// A refused upgrade: 400 with an empty body, then the connection closes.
    private static func refuseUpgrade(_ http: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, logger: Logger) async {
        do {
            try await http.executeThenClose { _, outbound in
                try await outbound.write(
                    contentsOf: [.head(HTTPResponse(status: .badRequest, headerFields: [.connection: "close", .contentLength: "0"])), .end(nil)]
                )
            }
        } catch {
            logger.trace("could not answer a refused upgrade", metadata: ["error": "\(error)"])
        }
    }
}
