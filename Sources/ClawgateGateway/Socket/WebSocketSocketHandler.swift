import NIOCore
import NIOWebSocket

/// One upgraded WebSocket as a channel handler: the socket costs no task while it is idle.
///
/// Why not Hummingbird's async WebSocket handler: it keeps a task per socket for the socket's
/// whole life (its stack slabs, an auto-ping task, async channel buffers) — ~22 of the ~36 KB an
/// idle connection cost (heaptrack, 2,000 sockets). No library offers a frame-level WebSocket
/// endpoint without a task per connection, so this handler sits after NIO's frame decoder and
/// encoder and does what that async handler did: joins fragmented messages (up to the session's
/// limit), answers pings, pings a peer that has gone quiet and drops it when it stays silent for
/// another interval, pauses reading while the session is behind, and runs the close handshake
/// (a peer that does not answer a close frame is dropped after `closeTimeout`). The session does
/// its work in a task only while messages wait (`SocketInbox`).
final class WebSocketSocketHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let session: any SocketSession
    private let pingInterval: TimeAmount
    private let closeTimeout: TimeAmount
    private var context: ChannelHandlerContext?

    private var partial: ByteBuffer?
    private var partialOpcode: WebSocketOpcode = .text
    private var discardingOversized = false

    private var readPaused = false
    private var readWithheld = false

    private var closeSent = false
    private var closeReceived = false
    private var hardClose: Scheduled<Void>?

    private var heardSinceLastPing = true
    private var pingUnanswered = false
    private var pinger: RepeatedTask?

    init(session: any SocketSession, pingInterval: TimeAmount, closeTimeout: TimeAmount) {
        self.session = session
        self.pingInterval = pingInterval
        self.closeTimeout = closeTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let me = NIOLoopBound(self, eventLoop: context.eventLoop)
        pinger = context.eventLoop.scheduleRepeatedTask(initialDelay: pingInterval, delay: pingInterval) { _ in
            me.value.pingTick()
        }
        session.start(SocketControl(channel: context.channel, handler: self))
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stopTimers()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopTimers()
        session.ended()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Decoder errors were answered by NIO's protocol error handler; anything else ends the socket.
        context.close(promise: nil)
    }

    // MARK: inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        heardSinceLastPing = true
        pingUnanswered = false
        switch frame.opcode {
        case .ping:
            guard !closeSent else { return }
            // The pong carries the ping's payload (at most 125 bytes: NIO's decoder refuses longer
            // control frames).
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .pong:
            break
        case .connectionClose:
            receivedClose(context: context, frame: frame)
        case .text, .binary:
            guard !closeReceived else { return }
            if partial != nil || discardingOversized {
                // A new message while a fragmented one is unfinished: protocol error.
                protocolError(reason: "new message before the last one ended")
                return
            }
            partialOpcode = frame.opcode
            append(frame, context: context)
        case .continuation:
            guard !closeReceived else { return }
            guard partial != nil || discardingOversized else {
                protocolError(reason: "continuation frame without a message")
                return
            }
            append(frame, context: context)
        default:
            protocolError(reason: "unknown opcode")
        }
    }

    private func append(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        if !discardingOversized {
            let payload = frame.unmaskedData
            if partial == nil, frame.fin {
                // The common case: one frame, one message, no copy.
                deliver(payload)
                return
            }
            var buffer = partial ?? context.channel.allocator.buffer(capacity: payload.readableBytes)
            if buffer.readableBytes + payload.readableBytes > session.maxMessageBytes {
                partial = nil
                discardingOversized = true
                session.messageTooLarge()
            } else {
                var payload = payload
                buffer.writeBuffer(&payload)
                partial = buffer
            }
        }
        guard frame.fin else { return }
        if discardingOversized {
            discardingOversized = false
            return
        }
        if let buffer = partial {
            partial = nil
            deliver(buffer)
        }
    }

    private func deliver(_ buffer: ByteBuffer) {
        guard buffer.readableBytes <= session.maxMessageBytes else {
            session.messageTooLarge()
            return
        }
        let message: SocketMessage = partialOpcode == .binary ? .binary(buffer) : .text(buffer)
        if !session.received(message) { readPaused = true }
    }

    private func receivedClose(context: ChannelHandlerContext, frame: WebSocketFrame) {
        guard !closeReceived else { return }
        closeReceived = true
        if closeSent {
            // Our close was answered: the handshake is complete.
            context.close(promise: nil)
            return
        }
        // Echo the peer's code (RFC 6455 §5.5.1), then drop the connection once it is written.
        var data = frame.unmaskedData
        let code = data.readWebSocketErrorCode() ?? .normalClosure
        closeSent = true
        var reply = context.channel.allocator.buffer(capacity: 2)
        reply.write(webSocketErrorCode: code)
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: reply)), promise: written)
        let channel = context.channel
        written.futureResult.whenComplete { _ in channel.close(promise: nil) }
    }

    private func protocolError(reason: String) {
        partial = nil
        sendClose(code: 1002, reason: reason)
    }

    // MARK: outbound

    /// Withholds reads while the session is behind (see `SocketSession.received`).
    func read(context: ChannelHandlerContext) {
        if readPaused {
            readWithheld = true
            return
        }
        context.read()
    }

    func resumeReading() {
        guard readPaused else { return }
        readPaused = false
        if readWithheld, let context {
            readWithheld = false
            context.read()
        }
    }

    /// Sends a close frame unless one went out already, then waits `closeTimeout` for the reply.
    func sendClose(code: UInt16, reason: String) {
        guard let context, !closeSent else { return }
        closeSent = true
        var data = context.channel.allocator.buffer(capacity: 2 + reason.utf8.count)
        data.write(webSocketErrorCode: WebSocketErrorCode(codeNumber: Int(code)))
        // A close frame's payload is at most 125 bytes: 2 for the code, the rest for the reason.
        data.writeBytes(reason.utf8.prefix(123))
        let channel = context.channel
        if closeReceived {
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data))).whenComplete { _ in
                channel.close(promise: nil)
            }
            return
        }
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)), promise: nil)
        hardClose = context.eventLoop.scheduleTask(in: closeTimeout) { channel.close(promise: nil) }
    }

    // MARK: liveness

    /// Every `pingInterval`: a peer heard from since the last tick is fine; a quiet one gets a
    /// ping; one that stayed quiet through a whole interval after its ping is dropped.
    private func pingTick() {
        guard let context, !closeSent else { return }
        if heardSinceLastPing {
            heardSinceLastPing = false
            return
        }
        if pingUnanswered {
            sendClose(code: 1001, reason: "ping timeout")
            return
        }
        pingUnanswered = true
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: context.channel.allocator.buffer(capacity: 0))), promise: nil)
    }

    private func stopTimers() {
        pinger?.cancel()
        pinger = nil
        hardClose?.cancel()
        hardClose = nil
    }
}
