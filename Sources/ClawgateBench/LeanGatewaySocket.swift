import ClawgateClient
import ClawgateProtocol
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// One gateway WebSocket connection run entirely inside NIO channel handlers: the handshake
/// (challenge → `connect` → `hello-ok`), requests, and pushed events handed over as raw bytes.
///
/// Why not `GatewayClient`: the `connections` and `fanout` scenarios hold thousands of sockets in
/// the load generator, which shares the 2 cores with the gateway it measures. A `GatewayClient`
/// connection keeps two tasks, a WebSocket client task group and a 4,096-event `AsyncStream`,
/// and decodes every frame twice into `JSONValue`. At 10k idle connections that is hundreds of
/// MB and a large share of a core just to read the ticks, which would show up as the gateway's
/// tick lateness. Here an idle connection is a channel and one handler; an event is a
/// `ByteBuffer` given to the scenario on the event loop, which looks at a few bytes of it.
final class LeanGatewaySocket: Sendable {
    let channel: any Channel
    /// The `hello-ok` payload.
    let hello: JSONValue
    private let handler: NIOLoopBound<LeanFrameHandler>

    private init(channel: any Channel, hello: JSONValue, handler: NIOLoopBound<LeanFrameHandler>) {
        self.channel = channel
        self.hello = hello
        self.handler = handler
    }

    /// Called on the event loop for every pushed event after `hello-ok`, with the frame's bytes
    /// and the monotonic time it was read. Must be cheap.
    typealias EventSink = @Sendable (ByteBuffer, UInt64) -> Void

    private enum Upgrade: Sendable {
        case upgraded(NIOLoopBound<LeanFrameHandler>, EventLoopFuture<JSONValue>)
        case refused
    }

    /// Connects to `ws://host:port/`, completes the handshake described by `options` (token,
    /// device proof, client identity, scopes) and returns once `hello-ok` arrived.
    static func connect(
        host: String, port: Int, options: GatewayClientOptions, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        timeout: TimeAmount = .seconds(30), onEvent: @escaping EventSink = { _, _ in }, onClose: @escaping @Sendable () -> Void = {}
    ) async throws -> LeanGatewaySocket {
        let hostHeader = "\(host):\(port)"
        let (channel, upgrade): (any Channel, EventLoopFuture<Upgrade>) = try await ClientBootstrap(group: group)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(timeout)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOTypedWebSocketClientUpgrader<Upgrade>(
                        maxFrameSize: 16 << 20,
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                let handler = LeanFrameHandler(
                                    options: options, eventLoop: channel.eventLoop, handshakeTimeout: timeout, onEvent: onEvent,
                                    onClose: onClose
                                )
                                try channel.pipeline.syncOperations.addHandler(
                                    NIOWebSocketFrameAggregator(
                                        minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1024, maxAccumulatedFrameSize: 16 << 20
                                    )
                                )
                                try channel.pipeline.syncOperations.addHandler(handler)
                                return Upgrade.upgraded(NIOLoopBound(handler, eventLoop: channel.eventLoop), handler.helloFuture)
                            }
                        }
                    )
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: hostHeader)
                    headers.add(name: "Content-Length", value: "0")
                    let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: headers)
                    let configuration = NIOTypedHTTPClientUpgradeConfiguration<Upgrade>(
                        upgradeRequestHead: head, upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in channel.eventLoop.makeCompletedFuture { .refused } }
                    )
                    // The gateway sends `connect.challenge` right after the 101; when both arrive in
                    // one read, the bytes after the response must reach the WebSocket decoder
                    // (the default drops them).
                    var pipeline = NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: configuration)
                    pipeline.leftOverBytesStrategy = .forwardBytes
                    let negotiated = try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(configuration: pipeline)
                    return (channel, negotiated)
                }
            }
        switch try await upgrade.get() {
        case .refused:
            try? await channel.close()
            throw BenchError.setup("ws://\(hostHeader): the server refused the WebSocket upgrade")
        case .upgraded(let handler, let helloFuture):
            do {
                let hello = try await helloFuture.get()
                return LeanGatewaySocket(channel: channel, hello: hello, handler: handler)
            } catch {
                try? await channel.close()
                throw error
            }
        }
    }

    /// Calls a method; an error response throws `GatewayClientError.requestFailed`.
    @discardableResult
    func call(_ method: String, params: JSONValue? = nil) async throws -> JSONValue {
        let handler = self.handler
        return try await channel.eventLoop.flatSubmit { handler.value.request(method, params: params) }.get()
    }

    func close() async {
        try? await channel.close()
    }
}

/// The connection's only handler after the upgrade. Confined to its event loop.
final class LeanFrameHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private enum Phase {
        case awaitingChallenge
        case awaitingHello
        case open
        case closed
    }

    private static let connectId = "connect"
    private static let eventPrefix = ByteBuffer(string: #"{"type":"event""#)

    private let options: GatewayClientOptions
    private let handshakeTimeout: TimeAmount
    private let onEvent: LeanGatewaySocket.EventSink
    private let onClose: @Sendable () -> Void
    private let helloPromise: EventLoopPromise<JSONValue>
    private var phase = Phase.awaitingChallenge
    private var context: ChannelHandlerContext?
    private var pending: [String: (method: String, promise: EventLoopPromise<JSONValue>)] = [:]
    private var nextId = 0

    var helloFuture: EventLoopFuture<JSONValue> { helloPromise.futureResult }

    init(
        options: GatewayClientOptions, eventLoop: any EventLoop, handshakeTimeout: TimeAmount,
        onEvent: @escaping LeanGatewaySocket.EventSink, onClose: @escaping @Sendable () -> Void
    ) {
        self.options = options
        self.handshakeTimeout = handshakeTimeout
        self.onEvent = onEvent
        self.onClose = onClose
        self.helloPromise = eventLoop.makePromise(of: JSONValue.self)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: handshakeTimeout) {
            bound.value.handshakeTimedOut()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            received(frame.unmaskedData, context: context)
        case .ping:
            write(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData), context: context)
        case .connectionClose:
            // Answer the close and end the channel.
            var data = context.channel.allocator.buffer(capacity: 2)
            data.write(webSocketErrorCode: .normalClosure)
            write(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data), context: context)
            context.close(promise: nil)
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(GatewayClientError.closed(code: nil, reason: "connection closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(error)
        context.close(promise: nil)
    }

    /// Sends a request; the future completes with its payload (or the error response).
    func request(_ method: String, params: JSONValue?) -> EventLoopFuture<JSONValue> {
        guard let context, phase == .open else {
            return helloPromise.futureResult.eventLoop.makeFailedFuture(GatewayClientError.closed(code: nil, reason: "not connected"))
        }
        nextId += 1
        let id = "r\(nextId)"
        let promise = context.eventLoop.makePromise(of: JSONValue.self)
        do {
            try send(RequestFrame(id: id, method: method, params: params), context: context)
        } catch {
            promise.fail(error)
            return promise.futureResult
        }
        pending[id] = (method, promise)
        return promise.futureResult
    }

    private func received(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        switch phase {
        case .open:
            // Events are by far the most frames: hand them over without decoding.
            if buffer.readableBytesView.starts(with: Self.eventPrefix.readableBytesView) {
                onEvent(buffer, MonotonicClock.nowNs())
                return
            }
            guard let frame = decode(buffer), case .response(let response) = frame else { return }
            guard let (method, promise) = pending.removeValue(forKey: response.id) else { return }
            if response.ok {
                promise.succeed(response.payload ?? .null)
            } else {
                promise.fail(
                    GatewayClientError.requestFailed(
                        method: method, response.error ?? ErrorShape(code: "UNKNOWN", message: "error without details")
                    )
                )
            }
        case .awaitingChallenge:
            guard let frame = decode(buffer), case .event(let event) = frame, event.event == GatewayEvent.connectChallenge,
                let nonce = event.payload?["nonce"]?.stringValue
            else {
                fail(GatewayClientError.invalidResponse("expected connect.challenge first"), context: context)
                return
            }
            do {
                let params = try options.connectParams(nonce: nonce, nowMs: Int(Date().timeIntervalSince1970 * 1000))
                try send(RequestFrame(id: Self.connectId, method: "connect", params: try JSONCoding.value(of: params)), context: context)
                phase = .awaitingHello
            } catch {
                fail(error, context: context)
            }
        case .awaitingHello:
            guard let frame = decode(buffer), case .response(let response) = frame, response.id == Self.connectId else { return }
            guard response.ok, let payload = response.payload else {
                fail(
                    GatewayClientError.connectRejected(
                        response.error ?? ErrorShape(code: "UNKNOWN", message: "connect failed"), closeCode: nil, closeReason: nil
                    ),
                    context: context
                )
                return
            }
            phase = .open
            helloPromise.succeed(payload)
        case .closed:
            break
        }
    }

    private func decode(_ buffer: ByteBuffer) -> GatewayFrame? {
        guard let value = try? JSONCoding.decode(JSONValue.self, from: Data(buffer.readableBytesView)),
            case .success(let frame) = GatewayFrame.parse(value)
        else { return nil }
        return frame
    }

    private func send(_ request: RequestFrame, context: ChannelHandlerContext) throws {
        let data = try JSONCoding.encode(request)
        var buffer = context.channel.allocator.buffer(capacity: data.count)
        buffer.writeBytes(data)
        write(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer), context: context)
    }

    private func write(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    private func handshakeTimedOut() {
        guard phase == .awaitingChallenge || phase == .awaitingHello, let context else { return }
        fail(GatewayClientError.timeout("no hello-ok within \(handshakeTimeout.nanoseconds / 1_000_000) ms"), context: context)
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        finish(error)
        context.close(promise: nil)
    }

    /// Fails the handshake and every pending request; tells the owner once.
    private func finish(_ error: any Error) {
        guard phase != .closed else { return }
        let wasOpen = phase == .open
        phase = .closed
        helloPromise.fail(error)
        let waiting = pending
        pending = [:]
        for (_, entry) in waiting { entry.promise.fail(error) }
        if wasOpen { onClose() }
    }
}

extension ByteBuffer {
    /// Whether the readable bytes contain `needle`.
    func containsBytes(_ needle: [UInt8]) -> Bool {
        offset(after: needle) != nil
    }

    /// The offset just after the first occurrence of `needle` in the readable bytes.
    func offset(after needle: [UInt8]) -> Int? {
        guard let first = needle.first else { return 0 }
        return withUnsafeReadableBytes { haystack -> Int? in
            guard haystack.count >= needle.count else { return nil }
            var start = 0
            let last = haystack.count - needle.count
            while start <= last {
                if haystack[start] == first {
                    var matched = true
                    for offset in 1..<needle.count where haystack[start + offset] != needle[offset] {
                        matched = false
                        break
                    }
                    if matched { return start + needle.count }
                }
                start += 1
            }
            return nil
        }
    }

    /// The decimal integer starting at readable offset `offset` (nil when there is no digit).
    func integer(atReadableOffset offset: Int) -> Int? {
        let view = readableBytesView
        var index = view.startIndex + offset
        var value = 0
        var digits = 0
        while index < view.endIndex, digits < 18, (48...57).contains(view[index]) {
            value = value * 10 + Int(view[index] - 48)
            digits += 1
            index += 1
        }
        return digits == 0 ? nil : value
    }
}
