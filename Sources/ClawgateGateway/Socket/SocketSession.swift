import NIOCore

/// What runs behind one WebSocket: the gateway protocol or a ClawLink push socket.
///
/// The handler calls these on the channel's event loop, in this order: `start` once, then
/// `received` / `messageTooLarge` for what the peer sends, and `ended` once when the channel
/// has closed. Sessions do their async work elsewhere (`SocketInbox`) and talk back through the
/// `SocketControl` they were started with.
protocol SocketSession: AnyObject, Sendable {
    /// Largest message the handler reassembles; a longer one is `messageTooLarge` instead.
    var maxMessageBytes: Int { get }
    func start(_ control: SocketControl)
    /// A complete message; returns false when the session is behind and reading should pause
    /// until it calls `SocketControl.resumeReading()`.
    func received(_ message: SocketMessage) -> Bool
    func messageTooLarge()
    func ended()
}

/// A session's handle on its socket's handler, usable from any thread.
struct SocketControl: Sendable {
    let channel: any Channel
    private let handler: NIOLoopBound<WebSocketSocketHandler>

    init(channel: any Channel, handler: WebSocketSocketHandler) {
        self.channel = channel
        self.handler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
    }

    var eventLoop: any EventLoop { channel.eventLoop }

    /// Reads again after `received` returned false.
    func resumeReading() {
        let handler = self.handler
        if eventLoop.inEventLoop {
            handler.value.resumeReading()
        } else {
            eventLoop.execute { handler.value.resumeReading() }
        }
    }

    /// Starts the close handshake (the frames written before it go first). On the event loop only:
    /// the outbound queue calls it right after writing what preceded the close.
    func sendCloseOnLoop(code: UInt16, reason: String) {
        handler.value.sendClose(code: code, reason: reason)
    }
}
